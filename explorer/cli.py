"""`python -m explorer ...`: the library's computations as JSON, without a browser.

    python -m explorer models --json
    python -m explorer trace --model linkage --theta0 '{"theta": 0.5}' --iterations 8 --json

A user error (unknown name, malformed JSON, bad data, invalid θ) prints one line
"error: ..." on stderr and exits with status 2; no traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from .core.checks import check_model, compare_implementations
from .core.errors import ExplorerError
from .core.loading import UserCodeError, user_traceback
from .core.compare import compare_with_exact
from .core.convergence import em_map_rate
from .core.families import FAMILIES, families_for, get_family
from .core.picture import landscape_calculator, picture
from .core.model import coordinates, parse_key, parse_theta_json
from .core.restarts import MAX_STARTS, run_restarts
from .core.schedules import SCHEDULES, schedules_for
from .core.session import Session
from .export import PLOTS, trace_csv, trace_json, without_non_finite
from .models import MODELS, available_models, make_model, model_class

CHUNKED = tuple(name for name, cls in MODELS.items() if cls.takes_chunks)   # models `chunked` runs


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:          # a refused argument (one `error:` line printed), or --help
        return int(exc.code or 0)
    try:
        result = args.handler(args)
    except ExplorerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except UserCodeError as exc:
        print(f"error: {exc}" + (f"\n{exc.details}" if exc.details else ""), file=sys.stderr)
        return 3
    except Exception as exc:  # noqa: BLE001 - a custom model's bug: show its own frames only
        details = user_traceback(exc)
        if "File " not in details:
            raise                      # no user frame: a bug of the explorer itself
        print(f"error: the model's code raised {type(exc).__name__}\n{details}", file=sys.stderr)
        return 3
    if getattr(args, "exit_code", None) is not None:
        code = args.exit_code(result)
        print(json.dumps(finite_json(result), indent=1, allow_nan=False) if args.json else render_text(result))
        return code
    if args.json:
        json.dump(finite_json(result), sys.stdout, indent=None if args.compact else 1, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(render_text(result))
    return 0


MAX_SYNTHETIC = 10_000_000    # points the CLI simulates at most (the app allows 10⁶)
MAX_SEED = 2**63 - 1


def finite_json(value):
    """`value` with every non-finite number written as null (JSON has no NaN or ∞), and a
    warning on stderr naming where (e.g. states[0].loglik: −∞ when θ sits on the edge of its
    range)."""
    found = []
    out = without_non_finite(value, found)
    if found:
        print(f"warning: {len(found)} value(s) are not finite and are written as null: "
              f"{', '.join(found[:5])}{', ...' if len(found) > 5 else ''}", file=sys.stderr)
    return out


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


def check_status(result: dict) -> int:
    """`check`'s exit status: 0 all pass, 1 a check fails, 3 the model's own code raised in one."""
    return 3 if result.get("raised") else 0 if result["passed"] else 1


def add_output_flags(parser):
    parser.add_argument("--json", action="store_true", help="print JSON (the stable contract)")
    parser.add_argument("--compact", action="store_true", help="JSON on one line")


def add_model_flags(parser):
    parser.add_argument("--model", required=True, help=f"one of {', '.join(MODELS)}")
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


class Every:
    """`say(*args)` on stderr at most once every `seconds` (a long build shows it is alive)."""

    def __init__(self, seconds: float, say):
        self.seconds, self.say = seconds, say
        self.start = self.last = time.monotonic()

    def __call__(self, *args) -> None:
        now = time.monotonic()
        if now - self.last >= self.seconds:
            self.last = now
            print(f"{self.say(*args)} ({now - self.start:.0f} s)", file=sys.stderr, flush=True)


def run_progress(every: float = 2.0) -> Every:
    """`progress(iteration, state)` for a long run: log p on stderr every few seconds."""
    return Every(every, lambda iteration, state: f"iteration {iteration}: log p = {state.loglik:.12g}")


def session_from_args(args, keep_q: int | None = None) -> Session:
    options = dict(parse_option(text) for text in args.option)
    synthetic = None
    if args.synthetic is not None:
        synthetic = {"n": args.synthetic, "seed": args.data_seed, "separation": args.separation}
    model = make_model(model_class(args.model), data=args.data, data_file=args.data_file, synthetic=synthetic,
                       **options)
    theta0 = parse_theta_json(args.theta0, "--theta0") if args.theta0 else None
    frozen = None if args.freeze is None else {name.strip() for name in args.freeze.split(",") if name.strip()}
    return Session(model, theta0, family=args.family, frozen=frozen, seed=args.seed,
                   schedule=getattr(args, "schedule", "em"), keep_q=keep_q)


def parse_option(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise ExplorerError(f"--option must look like K=3, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def cmd_models(args) -> dict:
    out = []
    for name, cls in available_models().items():
        model = make_model(cls)
        out.append({
            "name": name, "title": cls.title, "latent": cls.latent_description,
            "options": [{"name": o.name, "default": o.default, "minimum": o.minimum,
                         "maximum": o.maximum, "help": o.help} for o in cls.option_specs],
            "parameters": [{"name": p.name, "shape": list(p.shape), "constraint": str(p.constraint),
                            "label": p.label, "frozen_by_default": p.frozen_by_default}
                           for p in model.params()],
            "datasets": dict(cls.datasets), "default_dataset": cls.default_dataset,
            "families": families_for(model),
            "schedules": schedules_for(model, get_family("exact", model)),
            "takes_chunks": cls.takes_chunks,
        })
    families = {name: {"title": f.title, "formula": f.formula, "closes_gap": f.closes_gap, "why_gap": f.why_gap}
                for name, f in FAMILIES.items()}
    schedules = {name: {"title": s.title, "formula": s.formula, "words": s.words, "settings": list(s.settings)}
                 for name, s in SCHEDULES.items()}
    return {"models": out, "families": families, "schedules": schedules}


def cmd_trace(args) -> dict:
    session = session_from_args(args, keep_q=2)   # no undo here: only the current q is needed
    result = None
    progress = run_progress()
    if args.until_converged:
        result = session.run(tol=args.tol, max_iterations=args.max_iterations, theta_tol=args.theta_tol,
                             progress=progress)
    else:
        for iteration in range(1, args.iterations + 1):
            progress(iteration, session.iterate())
    out = trace_json(session)
    if result is not None:
        out["converged"] = result.converged
        out["stalled"] = result.stalled
        out["iterations"] = result.iterations
        if result.converged and session.schedule_object.em_map:
            out["em_map_rate"] = em_map_rate(session.model, session.current.theta, session.frozen,
                                             session.family_object)
    return out


def cmd_chunked(args) -> dict:
    try:
        import dask  # noqa: F401
    except ImportError:
        raise ExplorerError("chunked needs dask: pip install 'em-explorer[dask]' (or pip install 'dask[array]')") from None
    from .core.chunked import chunked_em
    data = open_chunked(args.data_file, args.chunk_rows)
    scheduler = args.scheduler
    if "://" in scheduler:
        try:
            from dask.distributed import Client
        except ImportError:
            raise ExplorerError("a scheduler address needs dask.distributed: pip install distributed") from None
        scheduler = Client(scheduler).get
    elif scheduler not in ("threads", "processes", "synchronous"):
        raise ExplorerError(f"--scheduler must be threads, processes, synchronous or an address, not {scheduler!r}")
    options = dict(parse_option(text) for text in args.option)
    theta0 = parse_theta_json(args.theta0, "--theta0") if args.theta0 else None
    say = Every(2.0, lambda step: f"iteration {step.iteration}: log p = {step.loglik:.12g}")
    steps = chunked_em(MODELS[args.model], data, theta0, seed=args.seed, chunk_rows=args.chunk_rows,
                       max_iterations=args.max_iterations if args.until_converged else args.iterations,
                       tol=args.tol if args.until_converged else 0.0, scheduler=scheduler, progress=say, **options)
    return {"model": args.model, "rows": int(data.shape[0]), "chunk_rows": args.chunk_rows,
            "iterations": [{"iteration": s.iteration, "loglik": s.loglik, "seconds": round(s.seconds, 4),
                            "theta": {k: np.asarray(v).tolist() for k, v in s.theta.items()}} for s in steps]}


def open_chunked(path: str, chunk_rows: int):
    """A data file for `chunked`, opened without reading it: a .npy file (read a chunk at a time),
    a .zarr array, or Parquet (a .parquet file or a folder of them: its numeric columns, a
    row group at a time)."""
    if path.rstrip("/").endswith(".parquet") or (os.path.isdir(path) and any(
            name.endswith(".parquet") for name in os.listdir(path))):
        from .core.chunked import open_parquet
        return open_parquet(path)
    if path.endswith(".zarr") or path.endswith(".zarr/"):
        try:
            import dask.array as da
            return da.from_zarr(path)
        except ImportError:
            raise ExplorerError("reading .zarr needs zarr: pip install zarr") from None
        except Exception as exc:  # noqa: BLE001 - any failure to open the store is the user's file
            raise ExplorerError(f"cannot open {path!r} as a zarr array: {exc}") from None
    if not path.endswith(".npy"):
        raise ExplorerError(f"chunked reads a .npy file, a .zarr array or Parquet, not {path!r}")
    from .core.chunked import open_npy
    try:
        return open_npy(path, chunk_rows)
    except (OSError, ValueError) as exc:
        raise ExplorerError(f"cannot read {path!r} as a .npy array: {exc}") from None


def cmd_landscape(args) -> dict:
    session = session_from_args(args)
    parse_key(args.param)
    if args.param not in coordinates(session.model.params()):
        raise ExplorerError(f"{args.param!r} is not a coordinate of model {session.model.name} "
                            f"(coordinates: {', '.join(coordinates(session.model.params())[:12])}, ...)")
    for _ in range(args.iterations):
        session.iterate()
    if not args.no_e_step:
        session.e_step()
    calculator = landscape_calculator(session.model, session.family_object, args.grid)
    drawn = picture(session, args.param, calculator, zoom=args.zoom)
    return {"model": session.model.name, "family": session.family, "state": session.current.to_json(),
            **drawn.to_json()}


def cmd_compare(args) -> dict:
    if get_family(args.family).closes_gap:
        raise ExplorerError("compare needs a constrained --family (e.g. hard or mean-field)")
    session = session_from_args(args)   # validates the model, θ0, family and frozen names
    result = compare_with_exact(session.model, args.family, session.theta0,
                                session.frozen, args.seed, args.tol, args.max_iterations)
    return {"model": session.model.name, **result.to_json()}


def cmd_export(args) -> dict:
    session = session_from_args(args, keep_q=None if args.format == "html" else 2)   # the page redraws each state
    progress = run_progress()
    if args.until_converged:
        session.run(progress=progress)
    else:
        for iteration in range(1, args.iterations + 1):
            progress(iteration, session.iterate())
    if args.param is not None and args.param not in coordinates(session.model.params()):
        raise ExplorerError(f"{args.param!r} is not a coordinate of model {session.model.name}")
    if args.format in ("png", "svg"):
        return write_image(session, args)
    if args.format == "html":
        from .standalone import standalone_html
        text = standalone_html(session, args.param, progress=Every(
            2.0, lambda done, total: f"recording state {done} of {total} for the page"))
    elif args.format == "csv":
        text = trace_csv(session)
    else:
        text = json.dumps(finite_json(trace_json(session)), indent=1, allow_nan=False) + "\n"
    if args.output:
        try:
            with open(args.output, "w") as handle:
                handle.write(text)
        except OSError as exc:
            raise ExplorerError(f"cannot write {args.output!r}: {exc.strerror or exc}") from None
        return {"written": args.output, "states": len(session.states), "format": args.format}
    return {"text": text}


def write_image(session, args) -> dict:
    """`export --format png|svg`: the plots drawn by matplotlib through explorer.plots."""
    if not args.output:
        raise ExplorerError(f"--format {args.format} needs --output FILE (an image is not written to a terminal)")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ExplorerError(f"--format {args.format} draws with matplotlib, which is not installed: "
                            "pip install 'em-explorer[images]' (or pip install matplotlib)") from None
    from .plots import save_image
    try:
        save_image(session, args.output, key=args.param, which=args.plot, fmt=args.format)
    except OSError as exc:
        raise ExplorerError(f"cannot write {args.output!r}: {exc.strerror or exc}") from None
    return {"written": args.output, "states": len(session.states), "format": args.format, "plot": args.plot}


def cmd_restarts(args) -> dict:
    if args.theta0:
        raise ExplorerError("restarts draws its own starts from the seeds: leave out --theta0")
    session = session_from_args(args)           # validates the model, family and frozen names
    progress = run_progress()
    result = run_restarts(session.model, args.starts, seed=args.seed, family=args.family, frozen=session.frozen,
                          tol=args.tol, max_iterations=args.max_iterations,
                          progress=lambda done, total: progress(done, session.current))
    return {"model": session.model.name, **result.to_json()}


def cmd_check(args) -> dict:
    if args.watch:
        return watch_checks(args)
    return run_check(args)


def run_check(args) -> dict:
    options = dict(parse_option(text) for text in args.option)
    model = make_model(args.model, data_file=args.data_file, **options)
    if args.against:
        other = make_model(args.against, data_file=args.data_file, **options)
        report = compare_implementations(model, other, seed=args.seed)
    else:
        report = check_model(model, seed=args.seed, n_points=args.points)
    return {**report.to_json(), "report": report.text()}


def model_files(args) -> list[Path]:
    """The files `check --watch` looks at: those of the model specs given (never anything else)."""
    specs = [args.model] + ([args.against] if args.against else [])
    return [Path(spec.rpartition(":")[0]) for spec in specs if spec.rpartition(":")[0].endswith(".py")]


def watch_checks(args, poll: float = 0.3) -> dict:
    """`check --watch`: the full report once, then after each save only what changed (a check
    that now passes or fails, or the error that stops the model loading)."""
    files = model_files(args)
    if not files:
        raise ExplorerError("--watch needs a model given as path/to/file.py:Class")

    def stamp():
        return tuple(f.stat().st_mtime_ns if f.exists() else None for f in files)

    def attempt():
        try:
            return run_check(args), None
        except (ExplorerError, UserCodeError) as exc:
            return None, f"error: {exc}" + (f"\n{exc.details}" if getattr(exc, "details", "") else "")
        except Exception as exc:  # noqa: BLE001 - the model's code raised: show it, keep watching
            return None, f"error: the model's code raised {type(exc).__name__}\n{user_traceback(exc)}"

    seen = stamp()
    result, error = attempt()
    print(error if error else render_text(result), flush=True)
    last = result
    deadline = None if args.watch_for is None else time.monotonic() + args.watch_for
    print(f"watching {', '.join(map(str, files))} (Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(poll)
            if stamp() == seen:
                continue
            seen = stamp()
            result, error = attempt()
            print(f"--- saved {time.strftime('%H:%M:%S')} ---", flush=True)
            if error:
                print(error, flush=True)
                continue
            print(checks_changed(last, result), flush=True)
            last = result
    except KeyboardInterrupt:
        pass
    if last is None:
        raise ExplorerError("the model never loaded while watching")
    return {**last, "report": "(watch ended)"}


def checks_changed(before: dict | None, after: dict) -> str:
    """The lines of a check report that differ from the last one (all of it after an error)."""
    if before is None:
        return after["report"]
    old = {c["name"]: c for c in before["checks"]}
    lines = []
    for check in after["checks"]:
        was = old.get(check["name"])
        if was is None or was["passed"] != check["passed"] or (not check["passed"] and was["message"] != check["message"]):
            word = "PASS" if check["passed"] else "FAIL"
            lines.append(f"  now {word}  {check['name']}" + ("" if check["passed"] else f": {check['message']}"))
    failed = sum(not c["passed"] for c in after["checks"])
    lines.append(f"{len(after['checks']) - failed} checks passed, {failed} failed"
                 + ("" if len(lines) else " (no change)"))
    return "\n".join(lines)


def render_text(result: dict) -> str:
    if "text" in result:
        return result["text"].rstrip("\n")
    if "written" in result:
        return f"wrote {result['states']} states as {result['format']} to {result['written']}"
    if "report" in result:
        return result["report"]
    if "models" in result:
        lines = []
        for m in result["models"]:
            params = ", ".join(f"{p['name']}{p['shape'] or ''}" for p in m["parameters"])
            lines.append(f"{m['name']:8s} {m['title']}\n         parameters: {params}\n"
                         f"         data sets: {', '.join(m['datasets'])}")
        return "\n".join(lines)
    if "fixed_points" in result:
        lines = [f"{result['starts']} starts reached {len(result['fixed_points'])} distinct fixed point(s):",
                 f"{'#':>3} {'log p':>16} {'starts':>6} {'relabelled':>10}  theta"]
        for i, p in enumerate(result["fixed_points"], start=1):
            lines.append(f"{i:3d} {p['loglik']:16.8f} {p['count']:6d} {p['relabelled']:10d}  "
                         f"{json.dumps(p['theta'])[:90]}")
        return "\n".join(lines)
    if "iterations" in result and "rows" in result:
        lines = [f"{result['model']} on {result['rows']:,} rows in chunks of {result['chunk_rows']:,}",
                 f"{'iter':>5} {'log p (at the θ it started from)':>34} {'seconds':>8}  theta"]
        lines += [f"{s['iteration']:5d} {s['loglik']:34.10f} {s['seconds']:8.2f}  {json.dumps(s['theta'])[:70]}"
                  for s in result["iterations"]]
        return "\n".join(lines)
    if "states" in result:
        lines = [f"{'step':>5} {'kind':4} {'log p':>16} {'F':>16} {'KL':>12} {'rate':>8}  theta"]
        for s in result["states"]:
            theta = json.dumps(s["theta"])
            rate = "" if s.get("rate") is None else f"{s['rate']:.4f}"
            lines.append(f"{s['index']:5d} {s['kind']:4} {s['loglik']:16.8f} {s['F']:16.8f} "
                         f"{s['kl']:12.3e} {rate:>8}  {theta[:70]}")
            lines += [f"      warning: {w}" for w in s["warnings"]]
        if "em_map_rate" in result:
            lines.append(f"rate of the EM map at the fixed point (largest fraction of missing information): "
                         f"{result['em_map_rate']:.6f}")
        return "\n".join(lines)
    if "slice" in result:
        b = result["slice"]
        lines = [f"bound along {result['param']} at {b['current']:.6g}; M-step target {b['m_target']:.6g}",
                 f"{'t':>14} {'log p':>16} {'F(t, q now)':>16}"]
        lines += [f"{t:14.6g} {lp:16.8f} {f:16.8f}" for t, lp, f in zip(b["t"], b["loglik"], b["F"])]
        return "\n".join(lines)
    if "bias" in result:
        e, c = result["exact"], result["constrained"]
        return "\n".join([
            f"{'':12s} {'exact EM':>24s} {result['family']:>24s}",
            f"{'log p':12s} {e['loglik']:24.8f} {c['loglik']:24.8f}",
            f"{'KL gap':12s} {0.0:24.8f} {c['kl_gap']:24.8f}",
            f"{'iterations':12s} {e['iterations']:24d} {c['iterations']:24d}",
            *(f"{k:12s} {json.dumps(e['theta'][k])[:24]:>24s} {json.dumps(c['theta'][k])[:24]:>24s}"
              for k in e["theta"])])
    return json.dumps(result, indent=1)


if __name__ == "__main__":
    sys.exit(main())
