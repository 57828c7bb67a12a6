"""Click → painted with each of Bokeh's renderers: canvas (the app's default), SVG, WebGL.

    python benchmarks/backends.py [--models linkage,gmm1d,gmm2d] [--clicks 30] [--rounds 2]

Serves `apps/explorer.py` on 127.0.0.1 once per backend, each server run by this script
(`--serve BACKEND`), which makes the app give its figures that backend when it builds them
(`Plots._backend`, where the app's own SVG switch sets it: BokehJS makes a plot's canvas once, so
a backend set on a drawn plot would change nothing). Each model's page is opened in Debian's
Chromium, checked to draw with that backend (each plot's canvas, and WebGL's context where asked),
and E step / M step clicked in turn (app_latency.time_clicks: click → the frame painted after the
last document change). The backends are taken in turn within each round, so a change of the
machine's load hits each alike.

WebGL here is Chromium's software GL (SwiftShader: the machine has no GPU), so its figure is the
worst case; a teacher's laptop draws WebGL on its GPU. Bokeh draws only some glyphs with WebGL
(lines, markers, rectangles): the landscape's contours, text and annotations stay on the canvas.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_latency import (CHROMIUM, ROOT, free_port, local_only, percentile, stop, time_clicks,  # noqa: E402
                         wait_listening, wait_ready)

BACKENDS = ("canvas", "svg", "webgl")
DRAWN_WITH = """() => { const out = []; const seen = new Set();
  const visit = (view) => { if (!view || seen.has(view)) return; seen.add(view);
    if (view.canvas_view) out.push(view.canvas_view.model.output_backend +
                                   (view.canvas_view.webgl ? "+gl" : ""));
    for (const child of (view.child_views || [])) visit(child); };
  for (const root of Object.values(Bokeh.index)) visit(root);
  return out }"""


def serve_with(backend: str, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", backend, "serve", str(ROOT / "apps" / "explorer.py"), "--port",
         str(port), "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return wait_listening(process, port, 60, f"panel serve ({backend})")


def run_server(backend: str, panel_args: list[str]):
    """This process as `panel serve`, the app's figures built with `backend`."""
    from explorer.app.plots_view import Plots

    def backend_of_the_run(self):
        for view in self.views.values():
            view.figure.output_backend = backend
    Plots._backend = backend_of_the_run
    from panel.command import main as panel_main
    sys.argv = ["panel", *panel_args]
    panel_main()


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        return run_server(sys.argv[2], sys.argv[3:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="linkage,gmm1d,gmm2d")
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not 2 <= args.clicks <= 500 or not 1 <= args.rounds <= 10:
        parser.error("--clicks must be in 2..500 and --rounds in 1..10")
    from playwright.sync_api import sync_playwright
    ports = {backend: free_port() for backend in BACKENDS}
    servers = [serve_with(backend, port) for backend, port in ports.items()]
    results = {(m, b): [] for m in args.models.split(",") for b in BACKENDS}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=["--no-sandbox", "--use-gl=angle", "--use-angle=swiftshader",
                                              "--enable-unsafe-swiftshader"])
            for _ in range(args.rounds):
                for model in args.models.split(","):
                    for backend in BACKENDS:
                        page = browser.new_page(viewport={"width": 1366, "height": 768})
                        page.route("**/*", local_only)
                        page.goto(f"http://127.0.0.1:{ports[backend]}/explorer?model={model}")
                        wait_ready(page)
                        drawn = page.evaluate(DRAWN_WITH)
                        expected = {"canvas": "canvas", "svg": "svg", "webgl": "webgl+gl"}[backend]
                        if not drawn or set(drawn) != {expected}:
                            raise RuntimeError(f"the plots are drawn with {drawn}, not {expected}")
                        time_clicks(page, 2)                          # warm up
                        latencies, _ = time_clicks(page, args.clicks)
                        results[(model, backend)] += latencies
                        print(f"  {model} {backend} ({len(drawn)} plots): {statistics.median(latencies):.0f} ms p50",
                              file=sys.stderr)
                        page.close()
            browser.close()
    finally:
        for server in servers:
            stop(server)
    print(f"click → painted, {args.rounds} rounds × {args.clicks} clicks; ratio to canvas")
    print(f"{'model':<16}" + "".join(f"{b + ' p50/p95':>18}{'×':>6}" for b in BACKENDS))
    for model in args.models.split(","):
        base = percentile(results[(model, "canvas")], 50)
        cells = ""
        for backend in BACKENDS:
            values = results[(model, backend)]
            p50, p95 = percentile(values, 50), percentile(values, 95)
            cells += f"{p50:>10.0f} / {p95:<5.0f}{p50 / base:>8.2f}"
        print(f"{model:<16}{cells}")


if __name__ == "__main__":
    main()
