"""Where a click's server CPU goes: the served app under cProfile during clicks only.

    python benchmarks/click_profile.py [--models factor-analysis,linkage] [--clicks 30] [--top 25]
                                       [--root /path/to/another/checkout] [--save DIR]

For each model: `panel serve apps/explorer.py` (of `--root`, default this checkout) runs in this
script's `--serve` mode, which runs Panel's command line with a profiler that SIGUSR1 turns on
and SIGUSR2 turns off (writing its stats). Chromium (Playwright) opens the model's page, clicks
E step and M step twice to warm up, then the profiler is on for `--clicks` clicks (E and M in
turn, app_latency.time_clicks: each waits until the page has painted and gone quiet). Prints the
server's CPU ms per click from /proc over the same clicks (with the profiler's overhead, so
higher than page_cost.py's) and the profile's top lines, by own time and by cumulative time
within explorer/. Unlike page_cost.py --profile (page opens), this sees what a click costs on
the server: the step, the pictures, Panel's and Bokeh's handling and the patch sent.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_latency import CHROMIUM, cpu_seconds, free_port, local_only, stop, time_clicks, wait_listening  # noqa: E402
from page_cost import quiet_cpu, ready  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def serve_profiled(out: str, panel_args: list[str]):
    """This process as `panel serve`, its main thread profiled between SIGUSR1 and SIGUSR2, in
    that thread's CPU time (the event loop's waits for the next message do not count)."""
    profiler = cProfile.Profile(time.thread_time)
    signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())

    def dump(*_):
        profiler.disable()
        profiler.dump_stats(out)
    signal.signal(signal.SIGUSR2, dump)
    from panel.command import main as panel_main
    sys.argv = ["panel", *panel_args]
    panel_main()


def profile_clicks(browser, root: Path, model: str, clicks: int, out: str) -> float:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", out, "serve", str(root / "apps" / "explorer.py"), "--port", str(port),
         "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_listening(process, port, 90, "panel serve")
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.route("**/*", local_only)
        page.goto(f"http://127.0.0.1:{port}/explorer?model={model}")
        ready(page)
        page.wait_for_timeout(1000)
        time_clicks(page, 4)                                   # warm up
        quiet_cpu(process.pid)
        cpu = cpu_seconds(process.pid)
        os.kill(process.pid, signal.SIGUSR1)
        time_clicks(page, clicks)
        os.kill(process.pid, signal.SIGUSR2)
        cpu = (cpu_seconds(process.pid) - cpu) / clicks * 1000
        deadline = time.time() + 30
        while not Path(out).exists() and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        return cpu
    finally:
        page.close()
        stop(process)


def top_lines(out: str, clicks: int, top: int) -> str:
    text = io.StringIO()
    stats = pstats.Stats(out, stream=text)
    total = sum(row[2] for row in stats.stats.values())       # own time of every function
    text.write(f"profiled: {total / clicks * 1000:.1f} ms of the main thread's CPU per click\n")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats("explorer/", top)
    return text.getvalue()


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve_profiled(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="factor-analysis,linkage")
    parser.add_argument("--clicks", type=int, default=30, help="profiled clicks per model (default %(default)s)")
    parser.add_argument("--top", type=int, default=25, help="lines of each listing (default %(default)s)")
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose app is served (default this one)")
    parser.add_argument("--save", metavar="DIR", help="keep each model's profile as DIR/MODEL.prof")
    args = parser.parse_args()
    if not 2 <= args.clicks <= 500:
        parser.error("--clicks must be in 2..500")
    from playwright.sync_api import sync_playwright
    if args.save:
        Path(args.save).mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for model in args.models.split(","):
                out = str(Path(args.save or folder) / f"{model}.prof")
                cpu = profile_clicks(browser, Path(args.root).resolve(), model, args.clicks, out)
                print(f"===== {model}: {cpu:.1f} ms server CPU per click under the profiler "
                      f"({args.clicks} clicks; load average {load:.1f} → {os.getloadavg()[0]:.1f}, 2 cores)")
                print(top_lines(out, args.clicks, args.top))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
