"""Where a page open's server CPU goes: `panel serve` with timers around the parts of a page.

    python benchmarks/page_parts.py OUT.jsonl serve apps/explorer.py --port ...   (page_cost.py --parts)

Runs Panel's command line in this process after wrapping the parts below with timers of this
thread's CPU time (`time.thread_time`, so other processes' load does not count); a part called
inside itself counts once. Each SIGUSR1 appends a line {part: [CPU seconds, calls]} to OUT.jsonl
(the difference of two lines is what happened between them).
The parts nest (the page script holds the state, the viewers and the template); gc counts the
cyclic garbage collector's passes wherever they fall. Unlike cProfile, the timers cost nothing
measurable, so the parts add up to the process's own CPU time.
"""
from __future__ import annotations

import functools
import gc
import importlib
import json
import signal
import sys
import time

TOTALS: dict[str, list] = {}
_depth: dict[str, int] = {}


def timed(name, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if _depth.get(name):
            return function(*args, **kwargs)
        _depth[name] = 1
        start = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            _depth[name] = 0
            total = TOTALS.setdefault(name, [0.0, 0])
            total[0] += time.thread_time() - start
            total[1] += 1
    return wrapper


PARTS = {     # name: (module, attribute path)
    "session (the page's whole document)": ("panel.io.application", "Application.initialize_document"),
    "page script (apps/explorer.py)": ("panel.io.handlers", "run_app"),
    "ExplorerState": ("explorer.app.state", "ExplorerState.__init__"),
    "Controls (sidebar widgets)": ("explorer.app.controls", "Controls.__init__"),
    "StepBar": ("explorer.app.step_bar", "StepBar.__init__"),
    "LessonBar": ("explorer.app.lesson_bar", "LessonBar.__init__"),
    "Plots (all)": ("explorer.app.plots_view", "Plots.__init__"),
    "make_views (figure building)": ("explorer.app.plots_view", "make_views"),
    "Plots.refresh (figures filled)": ("explorer.app.plots_view", "Plots.refresh"),
    "App.template (template object)": ("explorer.app.app", "App.template"),
    "template to Bokeh models (_init_doc)": ("panel.template.base", "BaseTemplate._init_doc"),
    "Document model walk (recompute)": ("bokeh.document.models", "DocumentModelManager.recompute"),
    "Document.to_json (serialisation)": ("bokeh.document.document", "Document.to_json"),
    "browser patches applied": ("bokeh.document.document", "Document.apply_json_patch"),
    "outgoing patch messages": ("bokeh.server.session", "ServerSession._document_patched"),
    "HTML page (template rendered)": ("panel.io.server", "server_html_page_for_session"),
    "pn.extension": ("panel.config", "panel_extension.__call__"),
    # (Tornado's and Bokeh's message handlers are coroutines: a timer around one would time the
    # making of its coroutine, 0 ms. Their share is the process CPU less the session's.)
    "onload callbacks": ("panel.io.state", "state._schedule_on_load"),
    "callback signature checks": ("bokeh.util.callback_manager", "_check_callback"),
    "design modifiers (stylesheets)": ("panel.theme.base", "Design._apply_modifiers"),
    "Bokeh theme applied to models": ("bokeh.themes.theme", "Theme.apply_to_model"),
}


def install():
    for name, (module, path) in PARTS.items():
        try:
            owner = importlib.import_module(module)
            *outer, attr = path.split(".")
            for part in outer:
                owner = getattr(owner, part)
            setattr(owner, attr, timed(name, getattr(owner, attr)))
        except (ImportError, AttributeError) as exc:
            print(f"page_parts: {name} not timed ({exc})", file=sys.stderr)
    gc_start = {}

    def on_gc(phase, info):
        if phase == "start":
            gc_start["t"] = time.thread_time()
        elif "t" in gc_start:
            total = TOTALS.setdefault("gc (cyclic collector)", [0.0, 0])
            total[0] += time.thread_time() - gc_start.pop("t")
            total[1] += 1
    gc.callbacks.append(on_gc)


def main():
    out = sys.argv[1]

    def snapshot(*_):
        with open(out, "a") as file:
            file.write(json.dumps({**TOTALS, "process CPU": [time.process_time(), 1]}) + "\n")
    signal.signal(signal.SIGUSR1, snapshot)
    install()
    from panel.command import main as panel_main
    sys.argv = ["panel", *sys.argv[2:]]
    panel_main()


if __name__ == "__main__":
    main()
