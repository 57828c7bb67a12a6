"""A click's server work in this process, without a server or a browser: CPU ms per click.

    python benchmarks/click_cpu.py [--models factor-analysis,linkage] [--clicks 40] [--repeats 3]
                                   [--profile MODEL] [--top 30]

Builds `App(model)` and its page in a Bokeh Document (as a served session does), then clicks
E step and M step in turn: the state's step, every viewer's redraw, and the PATCH-DOC message
the server would send, serialised. Reports the least, over `--repeats`, of this thread's CPU
time per click (`time.thread_time`: other processes' load counts far less than in
page_cost.py's /proc figures, though a loaded machine still slows it a little). What it leaves
out is Panel's and Bokeh's handling of the browser's click event and the websocket; page_cost.py
measures the whole. With `--profile MODEL`, that model's clicks under cProfile (top lines by
own and by cumulative time). To compare with another checkout, run it with that checkout first
on PYTHONPATH.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time


def clicker(model: str):
    from bokeh.document import Document
    from bokeh.protocol import Protocol

    from explorer.app import App
    app = App(model)
    doc = Document()
    app.template().server_doc(doc)
    events = []
    doc.on_change(events.append)
    count = [0]

    def click():
        events.clear()
        (app.state.e_step if count[0] % 2 == 0 else app.state.m_step)()
        count[0] += 1
        message = Protocol().create("PATCH-DOC", events)
        message.content_json
        for buffer in message.buffers:
            buffer.to_bytes()
    for _ in range(6):            # warm: the first steps move the zoom window and fill the caches
        click()
    return click


def per_click(click, clicks: int) -> float:
    start = time.thread_time()
    for _ in range(clicks):
        click()
    return (time.thread_time() - start) / clicks * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="factor-analysis,linkage")
    parser.add_argument("--clicks", type=int, default=40, help="clicks per repeat (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats; the least is reported (default %(default)s)")
    parser.add_argument("--profile", metavar="MODEL", help="profile MODEL's clicks instead")
    parser.add_argument("--top", type=int, default=30, help="lines of each profile listing (default %(default)s)")
    args = parser.parse_args()
    if not 2 <= args.clicks <= 2000 or not 1 <= args.repeats <= 20:
        parser.error("--clicks must be in 2..2000 and --repeats in 1..20")
    import explorer
    print(f"explorer from {os.path.dirname(explorer.__file__)}; load average {os.getloadavg()[0]:.1f} (2 cores)")
    if args.profile:
        click = clicker(args.profile)
        profiler = cProfile.Profile()
        profiler.enable()
        per_click(click, args.clicks)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats("explorer/", args.top)
        return
    for model in args.models.split(","):
        click = clicker(model)
        times = [per_click(click, args.clicks) for _ in range(args.repeats)]
        print(f"{model:16s} {min(times):6.2f} ms CPU per click (least of {args.repeats} × {args.clicks} clicks; "
              f"all: {', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
