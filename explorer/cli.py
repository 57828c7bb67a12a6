"""`python -m explorer ...`: the library's computations as JSON, without a browser.

    python -m explorer models --json
    python -m explorer trace --model linkage --theta0 '{"theta": 0.5}' --iterations 8 --json

A user error (unknown name, malformed JSON, bad data, invalid θ) prints one line
"error: ..." on stderr and exits with status 2; no traceback.
"""
from __future__ import annotations

import json
import sys

from .cli_arguments import CHUNKED, build_parser  # noqa: F401 - CHUNKED: what `chunked` runs, for tests
from .cli_commands import session_from_args  # noqa: F401 - for benchmarks/class_arrives.py
from .cli_output import finite_json, render_text
from .core.errors import ExplorerError
from .core.loading import UserCodeError, user_traceback


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


if __name__ == "__main__":
    sys.exit(main())
