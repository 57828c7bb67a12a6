"""`panel serve apps/explorer.py --setup apps/prepare_pages.py [--args ...]`: each server process
(one per `--num-procs`) starts preparing pages when it starts, not at its first page, so a class
arriving at once finds them ready (explorer/app/prepared.py). Panel runs this file in every
process, on its event loop, before the first page."""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]   # as apps/explorer.py
if not hasattr(sys.modules.get("explorer"), "__path__"):
    sys.modules.pop("explorer", None)

from explorer.app import App  # noqa: E402

App.prepare_pages(sys.argv[sys.argv.index("--args") + 1:] if "--args" in sys.argv else [])
