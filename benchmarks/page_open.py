"""What a page open costs the server: its CPU time per new session, the figure that decides how
fast a class of eighty can open the link at once.

    python benchmarks/page_open.py [--pages 20] [--model gmm1d]

Serves the app on 127.0.0.1, opens `--pages` sessions one after the other with `bokeh.client`
(the server builds the whole page for each, as for a browser), closes each, and prints the
server process's CPU seconds per page and the wall time to receive each page. Stops by itself.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_latency import cpu_seconds, free_port, serve, stop  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--model", default="gmm1d")
    args = parser.parse_args()
    import panel  # noqa: F401 - Panel's models, for the client's copy of the document
    import explorer.app.app  # noqa: F401 - and the app's own page components
    from bokeh.client import pull_session

    port = free_port()
    server = serve(port)
    url = f"http://127.0.0.1:{port}/explorer"
    try:
        pull_session(url=url, arguments={"model": args.model}).close()      # the app's modules loaded
        time.sleep(2)
        walls, cpus = [], []
        for _ in range(args.pages):
            cpu, wall = cpu_seconds(server.pid), time.perf_counter()
            session = pull_session(url=url, arguments={"model": args.model})
            walls.append(time.perf_counter() - wall)
            session.close()
            time.sleep(0.5)                          # the close's own work counted with this page
            cpus.append(cpu_seconds(server.pid) - cpu)
    finally:
        stop(server)
    print(f"{args.pages} pages of {args.model}: server CPU per page open "
          f"{statistics.median(cpus):.2f} s (median; min {min(cpus):.2f}, max {max(cpus):.2f}); "
          f"page received in {statistics.median(walls):.2f} s (median)")


if __name__ == "__main__":
    main()
