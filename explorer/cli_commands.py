"""What each command of `python -m explorer` does (but `check`, in cli_check): a function from
the parsed arguments to a result dict, which cli.py prints as JSON or text."""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from .core.compare import compare_with_exact
from .core.convergence import em_map_rate
from .core.errors import ExplorerError
from .core.families import FAMILIES, families_for, get_family
from .core.model import coordinates, parse_key, parse_theta_json
from .core.picture import landscape_calculator, picture
from .core.restarts import run_restarts
from .core.schedules import SCHEDULES, schedules_for
from .core.session import Session
from .screen import Screen
from .cli_output import finite_json
from .export import trace_csv, trace_json
from .models import MODELS, available_models, make_model, model_class


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
    if getattr(args, "screen", None):
        if args.model:
            raise ExplorerError("give --screen or --model, not both (the screen names its model)")
        screen = Screen.from_link(args.screen)
        if getattr(args, "param", "absent") is None and "coordinate" in screen.settings:
            args.param = screen.settings["coordinate"]        # the screen's own coordinate for the plots
        return screen.session(keep_q=keep_q)
    if not args.model:
        raise ExplorerError("--model is required (or --screen LINK)")
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
        screen = Screen.from_link(args.screen).after(session) if getattr(args, "screen", None) else None
        text = standalone_html(session, args.param, progress=Every(
            2.0, lambda done, total: f"recording state {done} of {total} for the page"), screen=screen)
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
