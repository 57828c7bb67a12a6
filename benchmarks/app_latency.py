"""What a user feels: click → plots painted, timed inside the page, and the server's CPU per click.

Serves the app (`panel serve apps/explorer.py`) on 127.0.0.1, drives Debian's Chromium with
Playwright, and for each model clicks E step and M step in turn. In the page, a capturing click
listener takes t0 = performance.now(); every Bokeh `Document.on_change` event records its time
and asks for an animation frame; the latency of a click is from t0 to the end of the frame
painted after the last data change (a frame callback, then a task after it, so the paint has
happened). The server's cost is its process CPU time (user + system, from /proc) over the clicks,
timed once the previous page's session has ended and its memory has been given back (the end of a
session is not a click's cost).

    python benchmarks/app_latency.py [--clicks 100] [--models linkage,gmm1d] [--long 500] [--play]

Prints, per model: p50/p95 of click → painted, document changes per click, server CPU ms per
click (and the clicks per second one core serves at that cost), the same CPU after a history of
2 × --long half steps (loaded from the URL: a click must not cost more with a longer history),
and the step alone in-process. With --play, how many states Play at 10 half steps/s makes per
second on gmm1d and how many arrive after Pause. Stops by itself: a bounded number of clicks,
and a time limit on each.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from explorer.app.app import IDLE_CHECK_SECONDS

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("EXPLORER_CHROMIUM", "/usr/bin/chromium")
MODELS = ["linkage", "coins", "gmm1d", "two-source", "gmm2d", "factor-analysis"]

INSTRUMENT = """() => {
  const lat = window.__lat = {t0: null, changes: 0, last: null, painted: null};
  document.addEventListener('click', () => { lat.t0 = performance.now(); lat.changes = 0;
                                             lat.last = null; lat.painted = null; }, true);
  for (const doc of Bokeh.documents)
    doc.on_change(() => {
      if (lat.t0 === null) return;
      lat.changes += 1;
      const t = lat.last = performance.now();
      requestAnimationFrame(() => setTimeout(() => { if (lat.last === t) lat.painted = performance.now(); }, 0));
    }, true);
}"""

RESULT = """(quiet) => {
  const lat = window.__lat;
  if (lat.painted === null || performance.now() - lat.last < quiet) return null;
  return {latency: lat.painted - lat.t0, changes: lat.changes};
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int, extra=(), log=None) -> subprocess.Popen:
    """`panel serve apps/explorer.py` on 127.0.0.1:port (with `extra` options), once it answers;
    its log into the open file `log` if given."""
    process = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", str(ROOT / "apps" / "explorer.py"), "--port", str(port),
         "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}", *extra],
        cwd=ROOT, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        start_new_session=True)
    return wait_listening(process, port, 60, "panel serve")


def wait_listening(process: subprocess.Popen, port: int, seconds: float, what: str) -> subprocess.Popen:
    """`process` once it answers on 127.0.0.1:port; stopped, and RuntimeError, after `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.3)
    stop(process)
    raise RuntimeError(f"{what} did not start within {seconds:.0f} s")


def stop(process: subprocess.Popen):
    """Stop the server and every process it forked (--num-procs): its whole process group."""
    import signal
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def local_only(route):
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
        route.continue_()
    else:
        route.abort()


def wait_ready(page):
    page.get_by_role("button", name="E step", exact=True).wait_for(timeout=60_000)
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0", timeout=60_000)
    page.wait_for_timeout(1500)


def time_clicks(page, clicks: int, quiet_ms: float = 300.0):
    page.evaluate(INSTRUMENT)
    latencies, changes = [], []
    for i in range(clicks):
        page.get_by_role("button", name="E step" if i % 2 == 0 else "M step", exact=True).click()
        deadline = time.time() + 30
        result = None
        while result is None and time.time() < deadline:
            page.wait_for_timeout(50)
            result = page.evaluate(RESULT, quiet_ms)
        if result is None:
            raise RuntimeError("a click did not finish within 30 s")
        latencies.append(result["latency"])
        changes.append(result["changes"])
    return latencies, changes


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure_play(page, url):
    """States per second while playing at 10 half steps/s, and states that arrive after Pause."""
    page.goto(f"{url}?model=gmm1d&speed=10")
    wait_ready(page)
    state = """() => { for (const doc of Bokeh.documents) for (const m of doc.all_models)
                   if (m.title === 'Timeline (state)') return m.value; return -1; }"""
    before = page.evaluate(state)
    page.get_by_role("button", name="▶ Play", exact=True).click()
    page.wait_for_timeout(5000)
    at_pause = page.evaluate(state)
    page.get_by_role("button", name="⏸ Pause", exact=True).click()
    page.wait_for_timeout(3000)
    after = page.evaluate(state)
    return (at_pause - before) / 5.0, after - at_pause


def step_ms(model: str, steps: int = 200) -> float:
    """An E or M step alone, in this process (the mathematics of a click, without the app)."""
    from explorer.core.session import Session
    from explorer.models import make_model
    session = Session(make_model(model), None)
    session.e_step()
    start = time.process_time()
    for i in range(steps):
        session.m_step() if i % 2 == 0 else session.e_step()
    return (time.process_time() - start) / steps * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=100)
    parser.add_argument("--long", type=int, default=500, help="EM iterations of history for the long-history column")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--play", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    # A page left for the next one ends its session 1 s later, before the next clicks are timed:
    # ending a session (Bokeh then collects the process's garbage) is not the cost of a click.
    server = serve(port, ("--check-unused-sessions", "500", "--unused-session-lifetime", "1000"))
    url = f"http://127.0.0.1:{port}/explorer"
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.route("**/*", local_only)
            for model in args.models.split(","):
                cpu = {}
                for history in ("", f"&steps=EM{args.long}"):
                    page.goto(f"{url}?model={model}{history}")
                    wait_ready(page)
                    time_clicks(page, 2)                    # warm up
                    page.wait_for_timeout(1000 * (IDLE_CHECK_SECONDS + 4))    # the last page's session
                    # has ended, been freed (by its idle check's next tick) and its memory given back
                    cpu0 = cpu_seconds(server.pid)
                    clicks = args.clicks if not history else max(args.clicks // 2, 10)
                    timed, changes = time_clicks(page, clicks)
                    cpu[history] = (cpu_seconds(server.pid) - cpu0) / clicks * 1000
                    if not history:
                        latencies, counts = timed, changes
                rows.append((model, percentile(latencies, 50), percentile(latencies, 95),
                             statistics.median(counts), cpu[""], cpu[f"&steps=EM{args.long}"], step_ms(model)))
                print(f"{model:16s} done", file=sys.stderr)
            play = measure_play(page, url) if args.play else None
            browser.close()
    finally:
        stop(server)
    print(f"{'model':16s} {'p50 ms':>7s} {'p95 ms':>7s} {'changes':>8s} {'CPU ms/click':>13s} "
          f"{'clicks/s/core':>14s} {f'CPU after {2 * args.long}':>15s} {'step alone ms':>14s}")
    for model, p50, p95, n, cpu, cpu_long, step in rows:
        print(f"{model:16s} {p50:7.0f} {p95:7.0f} {n:8.0f} {cpu:13.1f} {1000 / cpu:14.0f} {cpu_long:15.1f} {step:14.2f}")
    print("(click → painted: in-page; server CPU: user + system time of the server process per click, "
          "including its idle wait between clicks, so an upper bound)")
    if play is not None:
        print(f"Play at 10 half steps/s on gmm1d: {play[0]:.1f} states/s; {play[1]} states after Pause")


if __name__ == "__main__":
    main()
