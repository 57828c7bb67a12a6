"""Sessions that end give their memory back: rounds of many sessions opened, used and closed.

    python benchmarks/memory_rounds.py [--rounds 5] [--sessions 50] [--clicks 10]
                                       [--allocator malloc|pymalloc]

Serves the app on 127.0.0.1 with short session expiry (`--unused-session-lifetime 2000
--check-unused-sessions 1000`), then per round opens `--sessions` `bokeh.client` sessions (as
in load.py), has each take `--clicks` steps, closes them all, waits until the server has ended
every one of them, and prints the server's resident memory: its baseline, at the peak of each
round (all sessions open) and after each round. Memory per session is the peak over the
baseline, divided by the sessions. Stops by itself (bounded rounds, each wait has a limit).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_latency import ROOT, free_port, stop  # noqa: E402
from load import find  # noqa: E402

from explorer.app.app import IDLE_CHECK_SECONDS  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_session(url: str, clicks: int, sessions: list, lock: threading.Lock):
    import panel  # noqa: F401 - Panel's models, for the client's copy of the document
    import explorer.app.app  # noqa: F401 - and the app's own page components
    from bokeh.client import pull_session
    from bokeh.events import ButtonClick

    asyncio.set_event_loop(asyncio.new_event_loop())
    session = pull_session(url=url, arguments={"model": "gmm1d"})
    doc, connection = session.document, session._connection
    buttons = [find(doc, label="E step"), find(doc, label="M step")]
    timeline = find(doc, title="Timeline (state)")
    for i in range(clicks):
        target = timeline.value + 1
        doc.callbacks.send_event(ButtonClick(buttons[i % 2]))
        timer = connection._loop.call_later(30, connection._loop.stop)
        connection._loop_until(lambda: timeline.value >= target)
        timer.cancel()
    with lock:
        sessions.append(session)


def ended_sessions(log_path: Path) -> int:
    return log_path.read_text().count(" ended at state ")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--allocator", choices=["malloc", "pymalloc"], default="malloc",
                        help="the server's PYTHONMALLOC")
    args = parser.parse_args()
    port = free_port()
    log_path = Path(f"/tmp/explorer-memory-rounds-{port}.log")
    server = subprocess.Popen(            # its log says when each session has ended
        [sys.executable, "-m", "panel", "serve", str(ROOT / "apps" / "explorer.py"), "--port", str(port),
         "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}",
         "--unused-session-lifetime", "2000", "--check-unused-sessions", "1000"],
        cwd=ROOT, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHONMALLOC": args.allocator})
    url = f"http://127.0.0.1:{port}/explorer"
    rows = []
    try:
        deadline = time.time() + 60
        while "Bokeh app running" not in log_path.read_text() and time.time() < deadline:
            time.sleep(0.5)
        open_session(url, 1, [], threading.Lock())          # the app's modules loaded: the baseline
        time.sleep(6)
        baseline = rss_mb(server.pid)
        for round_ in range(1, args.rounds + 1):
            sessions, lock = [], threading.Lock()
            threads = [threading.Thread(target=open_session, args=(url, args.clicks, sessions, lock))
                       for _ in range(args.sessions)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(300)
            peak = rss_mb(server.pid)
            expected = ended_sessions(log_path) + len(sessions)
            for s in sessions:
                s.close()
            deadline = time.time() + 120
            while ended_sessions(log_path) < expected and time.time() < deadline:
                time.sleep(0.5)
            time.sleep(IDLE_CHECK_SECONDS + 6)      # the sessions are freed by the idle check, then trimmed
            rows.append((round_, len(sessions), peak, rss_mb(server.pid), ended_sessions(log_path) >= expected))
            print(f"round {round_} done", file=sys.stderr, flush=True)
    finally:
        stop(server)
    print(f"server RSS baseline (one session used and closed), PYTHONMALLOC={args.allocator}: {baseline:.0f} MB")
    print(f"{'round':>5s} {'sessions':>8s} {'peak MB':>8s} {'after MB':>9s} {'all ended':>9s} {'MB/session':>10s}")
    for round_, n, peak, after, ended in rows:
        print(f"{round_:5d} {n:8d} {peak:8.0f} {after:9.0f} {str(ended):>9s} {(peak - baseline) / max(n, 1):10.1f}")


if __name__ == "__main__":
    main()
