"""`python -m explorer check`: a model against the key results, once or (--watch) again after
every save of its file, printing only what changed."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from .cli_commands import parse_option
from .cli_output import render_text
from .core.checks import check_model, compare_implementations
from .core.errors import ExplorerError
from .core.loading import UserCodeError, user_traceback
from .models import make_model


def check_status(result: dict) -> int:
    """`check`'s exit status: 0 all pass, 1 a check fails, 3 the model's own code raised in one."""
    return 3 if result.get("raised") else 0 if result["passed"] else 1


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
