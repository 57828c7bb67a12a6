"""Entry point: panel serve apps/explorer.py [--args --model path/to/file.py:Class [--data FILE]]

Each browser session gets its own App, built from the page's URL (the whole screen lives there).
This file is named like the package it serves; the server puts this folder first on sys.path,
so it is taken out again before `explorer` is imported.
"""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]
if not hasattr(sys.modules.get("explorer"), "__path__"):
    sys.modules.pop("explorer", None)

import panel as pn  # noqa: E402

from explorer.app import App  # noqa: E402
from explorer.app.serving import (accept_one_connection_per_wake, favour_the_event_loop,  # noqa: E402
                                  warn_if_pages_build_twice)

accept_one_connection_per_wake()   # with --num-procs, a class spreads over the processes
warn_if_pages_build_twice(pn.config.reuse_sessions)
favour_the_event_loop()            # a session's long work in a thread leaves the others their turn
pn.extension(notifications=True)   # Panel's notification area: it says when a session has ended

# a page prepared ahead for this address if the process has one (explorer/app/prepared.py)
App.for_page(sys.argv[1:], query=pn.state.session_args).servable(title="EM explorer")
