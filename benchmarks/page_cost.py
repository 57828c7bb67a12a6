"""Page open and click, each as a ratio against a toy Panel app measured in the same run.

The floor (issue 31) is a toy Panel app: a FastListTemplate with 5 small Bokeh figures (a line
each, fed by a ColumnDataSource), 2 buttons whose click changes the sources' data and a Markdown
pane's text. This script writes it to a temporary file, serves it and `apps/explorer.py` (and,
with `--before PATH`, the app of another checkout) one after the other on 127.0.0.1, and drives
Debian's Chromium through Playwright (requests to any other host are aborted):

All apps are served at once and measured in turn (an open of each, then the next round; the
clicks model by model), so a change in the machine's load falls on all of them alike.

* page open: server CPU seconds (user + system of the server process, from /proc) from the
  request until the page is ready and the server has gone quiet, over `--opens` opens; no
  session ends during the run (a long unused-session lifetime), so an open counts only itself.
  Then the server's CPU in the rest of the AFTER_SECONDS (5 s) from the request: our app
  prepares a page in the place of the one taken there (explorer/app/prepared.py; served with
  `--setup apps/prepare_pages.py`, as README's class command), and the total is printed too.
  Our app is also served with `--args --prepared-pages 0` ("ours, none prepared"), for its
  page open alone;
* click: click → painted p50/p95, timed in the page from the click to the frame painted after
  the last document change (app_latency.py's instrument), `--clicks` per model, taken in
  `--rounds` rounds (each model's share of them, in turn) with a share of the toy's before each
  round and after the last: a model's clicks and the toy's spread alike over the run, so the
  machine's drift (the toy's p50 moved from 55 to 77 ms between runs) falls on both;
* server CPU per click (including the server's idle time between clicks, so an upper bound).

Then the ratios ours / toy against the issue's goals: page open ≤ toy; click p50 ≤ 1.2× the
toy for light models, ≤ 1.6× for heavy ones (gmm2d, factor-analysis); server CPU per click ≤ toy.

    python benchmarks/page_cost.py [--opens 6] [--clicks 20] [--rounds 4] [--models linkage,gmm1d]
                                   [--before /work/wt/old] [--profile page_open.prof]

`--parts` times the parts of our app's page opens instead (benchmarks/page_parts.py: the state,
the viewers, the figures, the template, the serialisation, gc), in ms per page. `--profile FILE` runs our app's server under cProfile for its page opens only (no clicks) and
writes the profile to FILE (read it with `python -m pstats FILE`). The toy's buttons are named
"E step" and "M step", so the same click code drives both apps. Bounded: a fixed number of opens
and clicks, a time limit on each, every server stopped at the end. The default run takes about
5 minutes on a quiet 2-core machine.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_latency import (CHROMIUM, MODELS, cpu_seconds, free_port, local_only, percentile, wait_listening,  # noqa: E402
                         stop, time_clicks)

ROOT = Path(__file__).resolve().parents[1]
AFTER_SECONDS = 5.0     # an app that prepares pages (explorer/app/prepared.py) makes the next within this
HEAVY = {"gmm2d", "factor-analysis"}          # the "heavy" models (1.6× the toy's click)
GOALS = "page open ≤ 1× toy; click p50 ≤ 1.2× toy (light), ≤ 1.6× (heavy); CPU per click ≤ 1× toy"

TOY = '''"""The floor of issue 31: FastListTemplate, 5 Bokeh figures, 2 buttons, a Markdown pane."""
import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

pn.extension()
x = np.linspace(0.0, 1.0, 50)
sources = [ColumnDataSource({"x": x, "y": np.sin((k + 1) * 3 * x)}) for k in range(5)]
figures = []
for k, source in enumerate(sources):
    fig = figure(title=f"figure {k + 1}", height=220, sizing_mode="stretch_width")
    fig.line("x", "y", source=source)
    figures.append(pn.pane.Bokeh(fig, sizing_mode="stretch_width"))
text = pn.pane.Markdown("**clicks: 0**")
clicks = [0]


def step(shift):
    def click(event):
        clicks[0] += 1
        phase = clicks[0] * shift
        for k, source in enumerate(sources):
            source.data = {"x": x, "y": np.sin((k + 1) * 3 * x + phase)}
        text.object = f"**clicks: {clicks[0]}**, phase {phase:.2f}"
    return click


first, second = pn.widgets.Button(name="E step"), pn.widgets.Button(name="M step")
first.on_click(step(0.1))
second.on_click(step(-0.07))
pn.template.FastListTemplate(title="toy", sidebar=[first, second, text], main=figures).servable()
'''


def serve(app: Path, root: Path, port: int, profile: str | None = None, parts: str | None = None,
          prepare: bool = False, args: tuple = ()):
    """`panel serve app` from `root` (its `explorer` first on the path) on 127.0.0.1:port; no
    session ends during the run, so what is measured is each open's and click's own work.
    Under cProfile with `profile`; with timers around a page's parts with `parts` (page_parts.py);
    preparing pages from its start with `prepare` (apps/prepare_pages.py); `args` after --args."""
    run = ([sys.executable, "-m", "cProfile", "-o", profile, "-m", "panel"] if profile else
           [sys.executable, str(Path(__file__).resolve().parent / "page_parts.py"), parts] if parts else
           [sys.executable, "-m", "panel"])
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(
        [*run, "serve", str(app), "--port", str(port), "--address", "127.0.0.1",
         "--allow-websocket-origin", f"127.0.0.1:{port}",
         "--unused-session-lifetime", "3600000", "--check-unused-sessions", "3600000",
         *(["--setup", str(root / "apps" / "prepare_pages.py")] if prepare else []),
         *(["--args", *args] if args else [])],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return wait_listening(process, port, 90, f"panel serve {app}")


def stop_profiled(process: subprocess.Popen):
    """Ctrl-C for a server under cProfile (it writes its profile as it ends), then `stop`."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    stop(process)


def ready(page):
    page.get_by_role("button", name="E step", exact=True).wait_for(timeout=90_000)
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0", timeout=90_000)


def quiet_cpu(pid: int, still: float = 0.6, limit: float = 10.0) -> float:
    """The process's CPU seconds once they stop growing for `still` seconds (at most `limit`)."""
    end, last, since = time.time() + limit, cpu_seconds(pid), time.time()
    while time.time() < end:
        time.sleep(0.2)
        now = cpu_seconds(pid)
        if now != last:
            last, since = now, time.time()
        elif time.time() - since >= still:
            break
    return last


class Served:
    """One app served, with its own browser page."""

    def __init__(self, browser, name, app, root, first_model, profile=None, parts=None, args=()):
        self.name, self.profile, self.parts = name, profile, parts
        port = free_port()
        self.server = serve(app, root, port, profile, parts, (root / "apps" / "prepare_pages.py").exists(), args)
        self.url = f"http://127.0.0.1:{port}/{app.stem}"
        self.first = f"?model={first_model}" if first_model else ""
        self.page = browser.new_page(viewport={"width": 1366, "height": 768})
        self.page.route("**/*", local_only)
        self.page.goto(self.url + self.first)               # the modules loaded, caches warm
        ready(self.page)
        quiet_cpu(self.server.pid)
        time.sleep(AFTER_SECONDS)                         # its first pages prepared, if it prepares them
        quiet_cpu(self.server.pid)
        self.open_cpu, self.after_cpu, self.open_wall, self.rows = [], [], [], {}

    def open_once(self):
        """Server CPU seconds (and wall seconds to the ready page) of one page open, and then
        of the AFTER_SECONDS that follow (a page prepared in its place, if the app prepares)."""
        cpu, wall = cpu_seconds(self.server.pid), time.perf_counter()
        self.page.goto(self.url + self.first)
        ready(self.page)
        self.open_wall.append(time.perf_counter() - wall)
        opened = quiet_cpu(self.server.pid)
        self.open_cpu.append(opened - cpu)
        time.sleep(max(0.0, wall + AFTER_SECONDS - time.perf_counter()))
        self.after_cpu.append(quiet_cpu(self.server.pid) - opened)

    def click(self, model, clicks):
        """Click → painted latencies and the server's CPU ms per click, on `model`'s page."""
        self.page.goto(self.url + (f"?model={model}" if model else ""))
        ready(self.page)
        self.page.wait_for_timeout(1000)
        time_clicks(self.page, 2)                                  # warm up
        quiet_cpu(self.server.pid)
        cpu = cpu_seconds(self.server.pid)
        latencies, _ = time_clicks(self.page, clicks)
        cpu = (cpu_seconds(self.server.pid) - cpu) / clicks * 1000
        old = self.rows.get(model, ([], 0.0, 0))
        self.rows[model] = (old[0] + latencies, old[1] + cpu * clicks, old[2] + clicks)
        print(f"  {self.name} {model or 'toy'}: {percentile(latencies, 50):.0f} ms p50", file=sys.stderr)

    def row(self, model):
        latencies, cpu, clicks = self.rows[model]
        return percentile(latencies, 50), percentile(latencies, 95), cpu / clicks

    def close(self):
        self.page.close()
        (stop_profiled if self.profile or self.parts else stop)(self.server)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opens", type=int, default=6, help="page opens per app (default %(default)s)")
    parser.add_argument("--clicks", type=int, default=20, help="clicks per model (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="the clicks in this many rounds, the toy's between them (default %(default)s)")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--before", metavar="PATH", help="also our app from this checkout (its apps/explorer.py)")
    parser.add_argument("--profile", metavar="FILE", help="only profile our app's server over --opens page opens")
    parser.add_argument("--parts", action="store_true",
                        help="only time the parts of our app's page opens (page_parts.py), in ms per page")
    args = parser.parse_args()
    if not 1 <= args.opens <= 100 or not 2 <= args.clicks <= 1000 or not 1 <= args.rounds <= args.clicks // 2:
        parser.error("--opens must be in 1..100, --clicks in 2..1000 and --rounds in 1..clicks/2")
    models = args.models.split(",")
    from playwright.sync_api import sync_playwright

    load = [os.getloadavg()[0]]
    apps = []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        toy = Path(folder) / "toy.py"
        toy.write_text(TOY)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            if args.profile or args.parts:
                out = str(Path(args.profile).resolve()) if args.profile else Path(folder) / "parts.jsonl"
                ours = Served(browser, "ours", ROOT / "apps" / "explorer.py", ROOT, models[0],
                              profile=out if args.profile else None, parts=None if args.profile else str(out))
                apps.append(ours)
                if args.parts:
                    os.kill(ours.server.pid, signal.SIGUSR1)
                for _ in range(args.opens):
                    ours.open_once()
                if args.parts:
                    os.kill(ours.server.pid, signal.SIGUSR1)
                    time.sleep(0.5)
                    print_parts(ours, models[0], args.opens, out)
                else:
                    print(f"{args.opens} opens profiled, {statistics.median(ours.open_cpu):.2f} s CPU each "
                          f"(under cProfile); profile in {args.profile} once the server has stopped")
                return
            # All apps served at once, their page opens taken in turn (toy, ours, before, toy, ...)
            # and their clicks model by model, so a change in the machine's load falls on all alike.
            apps.append(Served(browser, "toy", toy, Path(folder), ""))
            apps.append(Served(browser, "ours", ROOT / "apps" / "explorer.py", ROOT, models[0]))
            apps.append(Served(browser, "ours, none prepared", ROOT / "apps" / "explorer.py", ROOT, models[0],
                               args=("--prepared-pages", "0")))
            if args.before:
                before = Path(args.before).resolve()
                apps.append(Served(browser, "before", before / "apps" / "explorer.py", before, models[0]))
            for _ in range(args.opens):
                for app in apps:
                    app.open_once()
            clicking = [app for app in apps[1:] if app.name != "ours, none prepared"]
            for share in shares(args.clicks, args.rounds):
                apps[0].click("", share)
                for model in models:
                    for app in clicking:
                        app.click(model, share)
            apps[0].click("", args.clicks // args.rounds)
        finally:
            for app in apps:
                app.close()
            browser.close()
    load.append(os.getloadavg()[0])
    report({app.name: app for app in apps}, models, args, load)


def shares(clicks: int, rounds: int) -> list[int]:
    """`clicks` split into `rounds` near-equal shares."""
    return [clicks // rounds + (r < clicks % rounds) for r in range(rounds)]


def print_parts(ours, model, opens, out):
    """Our app's page open, part by part: the CPU ms per page of each part of page_parts.py."""
    import json
    before, after = (json.loads(line) for line in Path(out).read_text().splitlines()[:2])
    print(f"{opens} opens of {model}, {statistics.median(ours.open_cpu):.2f} s server CPU each (median, from "
          f"/proc); load average {os.getloadavg()[0]:.1f}; parts nest, in ms per page:")
    for name, (seconds, calls) in sorted(after.items(), key=lambda item: -item[1][0]):
        seconds -= before.get(name, [0.0, 0])[0]
        calls -= before.get(name, [0.0, 0])[1]
        if seconds > 0:
            print(f"  {name:40s} {seconds / opens * 1000:7.0f} ms  ({calls / opens:.1f} calls)")


def report(results, models, args, load):
    toy = results["toy"]
    toy_open = statistics.median(toy.open_cpu)
    toy_p50, toy_p95, toy_cpu = toy.row("")
    print(f"load average {load[0]:.1f} at the start, {load[1]:.1f} at the end (2 cores); "
          f"{args.opens} opens, {args.clicks} clicks per model; goals: {GOALS}")
    print(f"toy: page open {toy_open:.2f} s CPU (min {min(toy.open_cpu):.2f}), "
          f"{statistics.median(toy.open_wall):.1f} s wall, {statistics.median(toy.after_cpu):.2f} s in the "
          f"{AFTER_SECONDS:.0f} s after; click p50 {toy_p50:.0f} ms, p95 {toy_p95:.0f} ms, {toy_cpu:.1f} ms CPU per click")
    for name in ("before", "ours, none prepared", "ours"):
        if name not in results:
            continue
        opens, walls, after = results[name].open_cpu, results[name].open_wall, results[name].after_cpu
        median = statistics.median(opens)
        print(f"\n{name}: page open {median:.2f} s CPU (min {min(opens):.2f}, max {max(opens):.2f}), "
              f"{statistics.median(walls):.1f} s wall; {median / toy_open:.2f}× the toy "
              f"({'meets' if median <= toy_open else 'misses'} ≤ 1×); then {statistics.median(after):.2f} s "
              f"in the {AFTER_SECONDS:.0f} s after (a page prepared in its place), "
              f"{statistics.median([o + a for o, a in zip(opens, after)]):.2f} s in all")
        if name == "ours, none prepared":          # served to measure its page open only
            continue
        print(f"{'model':16s} {'p50 ms':>7s} {'p95 ms':>7s} {'× toy':>6s} {'goal':>5s} "
              f"{'CPU ms/click':>13s} {'× toy':>6s}")
        for model in models:
            p50, p95, cpu = results[name].row(model)
            goal = 1.6 if model in HEAVY else 1.2
            ratio = p50 / toy_p50
            print(f"{model:16s} {p50:7.0f} {p95:7.0f} {ratio:6.2f} {goal:5.1f}{'' if ratio <= goal else '!'} "
                  f"{cpu:13.1f} {cpu / toy_cpu:6.2f}{'' if cpu <= toy_cpu else '!'}")
    if "before" in results:
        ratio = [o / b for o, b in zip(results["ours"].open_cpu, results["before"].open_cpu)]
        print(f"\nours / before, page open (opens taken in turn, paired): median {statistics.median(ratio):.2f} "
              f"(min {min(ratio):.2f}, max {max(ratio):.2f})")
    print("(! marks a ratio above its goal; server CPU is user + system time of the server process)")


if __name__ == "__main__":
    main()
