"""The command line's arguments: `build_parser` with one sub-parser per command, and the
argparse types that refuse a bad value with one line (a whole number in range, a finite number)."""
from __future__ import annotations

import argparse
import math

from .cli_check import cmd_check, check_status
from .cli_commands import (cmd_chunked, cmd_compare, cmd_export, cmd_landscape, cmd_models, cmd_restarts,
                           cmd_trace)
from .core.restarts import MAX_STARTS
from .export import PLOTS
from .models import MODELS

CHUNKED = tuple(name for name, cls in MODELS.items() if cls.takes_chunks)   # models `chunked` runs
MAX_SYNTHETIC = 10_000_000    # points the CLI simulates at most (the app allows 10⁶)
MAX_SEED = 2**63 - 1


def whole(minimum: int, maximum: int):
    """An argparse type: a whole number in [minimum, maximum]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be between {minimum} and {maximum}, got {value}")
        return value
    return parse


def number(minimum: float, maximum: float, open_below: bool = False):
    """An argparse type: a finite number in [minimum, maximum] ((minimum, maximum] if open_below)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        low_ok = value > minimum if open_below else value >= minimum
        if not (math.isfinite(value) and low_ok and value <= maximum):
            raise argparse.ArgumentTypeError(
                f"must be a number {'>' if open_below else '≥'} {minimum:g} and ≤ {maximum:g}, got {text}")
        return value
    return parse


TOLERANCE = number(0.0, 1.0, open_below=True)
SEED = whole(0, MAX_SEED)


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (and status 2) instead of the usage block."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m explorer", description="The variational view of EM, computed.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    models = commands.add_parser("models", help="list the models, their parameters and data sets")
    models.set_defaults(handler=cmd_models)
    add_output_flags(models)

    trace = commands.add_parser("trace", help="run E and M steps and print every half step")
    add_model_flags(trace)
    stop = trace.add_mutually_exclusive_group(required=True)
    stop.add_argument("--iterations", type=whole(0, 10_000_000), help="number of EM iterations (E then M)")
    stop.add_argument("--until-converged", action="store_true",
                      help="iterate until log p changes by at most --tol")
    trace.add_argument("--tol", type=TOLERANCE, default=1e-8, help="tolerance on log p (default 1e-8)")
    trace.add_argument("--theta-tol", type=TOLERANCE, default=1e-9,
                       help="tolerance on θ's estimated distance to its limit, relative to θ's size (default 1e-9)")
    trace.add_argument("--max-iterations", type=whole(1, 10_000_000), default=1000)
    trace.set_defaults(handler=cmd_trace)
    add_output_flags(trace)

    chunked = commands.add_parser(
        "chunked", help=f"EM on data past memory: --data-file read in chunks (dask), q never held ({', '.join(CHUNKED)})")
    chunked.add_argument("--model", required=True, choices=CHUNKED)
    chunked.add_argument("--data-file", required=True, help="a .npy file (read a chunk at a time), a .zarr array, or a .parquet file or folder")
    chunked.add_argument("--option", action="append", default=[], metavar="K=V", help="a model option, e.g. K=3")
    stop = chunked.add_mutually_exclusive_group(required=True)
    stop.add_argument("--iterations", type=whole(1, 1_000_000), help="number of EM iterations")
    stop.add_argument("--until-converged", action="store_true", help="iterate until log p changes by at most --tol")
    chunked.add_argument("--tol", type=TOLERANCE, default=1e-10, help="relative tolerance on log p (default 1e-10)")
    chunked.add_argument("--max-iterations", type=whole(1, 1_000_000), default=1000)
    chunked.add_argument("--theta0", help="initial θ as JSON, any subset of the keys")
    chunked.add_argument("--seed", type=SEED, default=0, help="seed of the initial θ's other keys")
    chunked.add_argument("--chunk-rows", type=whole(1000, 100_000_000), default=1_000_000,
                         help="rows per chunk for a .npy file (default 10⁶; memory ≈ 100 bytes a row per worker)")
    chunked.add_argument("--scheduler", default="threads",
                         help="dask's scheduler: threads (default), processes, synchronous, or a dask.distributed "
                              "scheduler's address (tcp://host:8786) to run the chunks on its cluster")
    chunked.set_defaults(handler=cmd_chunked)
    add_output_flags(chunked)

    landscape = commands.add_parser(
        "landscape", help="the bound slice and the θ–q grid along one coordinate, as the app draws them")
    add_model_flags(landscape)
    landscape.add_argument("--param", required=True, metavar="KEY[INDEX]",
                           help="the coordinate θ_j, e.g. theta, means[1], covariances[0,0,1]")
    landscape.add_argument("--grid", type=whole(3, 1000), default=50, help="grid points per axis (default 50)")
    landscape.add_argument("--iterations", type=whole(0, 100_000), default=0, help="EM iterations before the picture")
    landscape.add_argument("--no-e-step", action="store_true",
                           help="draw the state as it is (by default an E step is taken first, so "
                                "q is the posterior at θ, as in Bishop's Figure 9.14)")
    landscape.add_argument("--zoom", action="store_true",
                           help="span only the part of θ_j's range the path covers (as the app does by default)")
    landscape.set_defaults(handler=cmd_landscape)
    add_output_flags(landscape)

    compare = commands.add_parser(
        "compare", help="exact EM against variational EM in --family, both run to convergence")
    add_model_flags(compare)
    compare.add_argument("--tol", type=TOLERANCE, default=1e-9, help="tolerance on log p (default 1e-9)")
    compare.add_argument("--max-iterations", type=whole(1, 10_000_000), default=5000)
    compare.set_defaults(handler=cmd_compare)
    add_output_flags(compare)

    export = commands.add_parser(
        "export", help="run the steps and write the history (CSV, JSON), a standalone page (HTML) or the plots "
                       "(PNG, SVG)")
    add_model_flags(export)
    stop = export.add_mutually_exclusive_group(required=True)
    stop.add_argument("--iterations", type=whole(0, 10_000_000), help="number of EM iterations (E then M)")
    stop.add_argument("--until-converged", action="store_true", help="iterate to the fixed point")
    export.add_argument("--format", choices=("csv", "json", "html", "png", "svg"), default="csv",
                        help="csv or json: the history; html: a standalone page with a slider through the "
                             "states (opens offline, no Python needed); png or svg: the plots at the last state "
                             "(drawn by matplotlib: pip install 'em-explorer[images]'; needs --output)")
    export.add_argument("--plot", choices=("all",) + PLOTS, default="all",
                        help="png/svg: one plot, or all of them in one figure (default)")
    export.add_argument("--param", metavar="KEY[INDEX]",
                        help="html/png/svg: the coordinate of the bound and landscape")
    export.add_argument("--output", "-o", help="the file to write (default: standard output)")
    export.set_defaults(handler=cmd_export, json=False, compact=False)

    restarts = commands.add_parser(
        "restarts", help="EM from many seeded starts: the distinct fixed points and how often each is reached")
    add_model_flags(restarts)
    restarts.add_argument("--starts", type=whole(1, MAX_STARTS), default=20,
                          help=f"number of starts, seeds --seed … --seed + R − 1 (default 20, at most {MAX_STARTS})")
    restarts.add_argument("--tol", type=TOLERANCE, default=1e-8, help="tolerance on log p (default 1e-8)")
    restarts.add_argument("--max-iterations", type=whole(1, 100_000), default=2000)
    restarts.set_defaults(handler=cmd_restarts)
    add_output_flags(restarts)

    check = commands.add_parser(
        "check", help="check a model against the key results of the variational view (exit 1 on failure)")
    check.add_argument("model", help="path/to/file.py:ClassName, module:ClassName, or a model's name")
    check.add_argument("--option", action="append", default=[], metavar="K=V")
    check.add_argument("--data-file", help="data for a model that cannot simulate its own")
    check.add_argument("--seed", type=SEED, default=0)
    check.add_argument("--points", type=whole(2, 1_000_000), default=300, help="points to simulate (default 300)")
    check.add_argument("--against", metavar="OTHER",
                       help="compare with a second implementation of the same model (file.py:Class or a name): "
                            "log p, the posterior and the M step on the same data and θ")
    check.add_argument("--watch", action="store_true",
                       help="run the checks again each time the model's file (or --against's) is saved, printing "
                            "only what changed; Ctrl-C stops")
    check.add_argument("--watch-for", type=number(0.0, 1e7), default=None, metavar="SECONDS",
                       help="with --watch: stop after this many seconds")
    check.set_defaults(handler=cmd_check, exit_code=check_status)
    add_output_flags(check)
    return parser



def add_output_flags(parser):
    parser.add_argument("--json", action="store_true", help="print JSON (the stable contract)")
    parser.add_argument("--compact", action="store_true", help="JSON on one line")


def add_model_flags(parser):
    parser.add_argument("--model", help=f"one of {', '.join(MODELS)} (or --screen)")
    parser.add_argument("--screen", metavar="LINK",
                        help="a screen of the app: its link as the page's address shows it, or the link's "
                             "words alone ('model=gmm1d&K=2&steps=EM10'); its model, data, start, family, "
                             "schedule and steps, instead of the flags that name them")
    parser.add_argument("--option", action="append", default=[], metavar="K=V",
                        help="a model option, e.g. K=3 (repeatable)")
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--data", help="a built-in data set of the model")
    data.add_argument("--data-file", help="a CSV file with a header row, or a .npy array")
    data.add_argument("--synthetic", type=whole(1, MAX_SYNTHETIC), metavar="N",
                      help=f"N points simulated from the model (N ≤ {MAX_SYNTHETIC:,})")
    parser.add_argument("--separation", type=number(-1e6, 1e6), default=3.0,
                        help="with --synthetic: how far apart (|separation| ≤ 10⁶)")
    parser.add_argument("--data-seed", type=SEED, default=0, help="with --synthetic: the data's seed")
    parser.add_argument("--theta0", help="initial θ as JSON, any subset of the keys")
    parser.add_argument("--seed", type=SEED, default=0, help="seed of the initial θ's other keys")
    parser.add_argument("--freeze", default=None,
                        help="comma-separated parameters held fixed (default: the model's own)")
    parser.add_argument("--family", default="exact", help="the family of q the E step searches")
    parser.add_argument("--schedule", default="em",
                        help="em | ecm | gradient:STEP | incremental:B[:random] (default em)")
