"""Click → painted with each of Bokeh's renderers: canvas (the app's default), SVG, WebGL.

    python benchmarks/backends.py [--models linkage,gmm1d,gmm2d] [--clicks 30] [--rounds 2]

Serves `apps/explorer.py` on 127.0.0.1 and opens each model's page in Debian's Chromium; the page's
figures are then switched to the backend in the page itself (`output_backend` set on every plot
from the browser, as the app's SVG switch sets it from the server), and E step / M step clicked in
turn (app_latency.time_clicks: click → the frame painted after the last document change). The
backends are taken in turn within each round, so a change of the machine's load hits each alike.

WebGL here is Chromium's software GL (SwiftShader: the machine has no GPU), so its figure is the
worst case; a teacher's laptop draws WebGL on its GPU. Bokeh draws only some glyphs with WebGL
(lines, markers, rectangles): the landscape's contours, text and annotations stay on the canvas.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_latency import CHROMIUM, free_port, local_only, percentile, serve, stop, time_clicks, wait_ready  # noqa: E402

BACKENDS = ("canvas", "svg", "webgl")
SWITCH = """(backend) => { let n = 0;
  for (const doc of Bokeh.documents) for (const m of doc.all_models)
    if ("output_backend" in m.properties) { m.output_backend = backend; n++ }
  return n }"""
HAS_WEBGL = "() => !!document.createElement('canvas').getContext('webgl2')"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="linkage,gmm1d,gmm2d")
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not 2 <= args.clicks <= 500 or not 1 <= args.rounds <= 10:
        parser.error("--clicks must be in 2..500 and --rounds in 1..10")
    from playwright.sync_api import sync_playwright
    port = free_port()
    server = serve(port)
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
                        page.goto(f"http://127.0.0.1:{port}/explorer?model={model}")
                        wait_ready(page)
                        switched = page.evaluate(SWITCH, backend)
                        if backend == "webgl" and not page.evaluate(HAS_WEBGL):
                            raise RuntimeError("this Chromium draws no WebGL: Bokeh would fall back to the canvas")
                        page.wait_for_timeout(1000)
                        time_clicks(page, 2)                          # warm up
                        latencies, _ = time_clicks(page, args.clicks)
                        results[(model, backend)] += latencies
                        print(f"  {model} {backend} ({switched} plots): {statistics.median(latencies):.0f} ms p50",
                              file=sys.stderr)
                        page.close()
            browser.close()
    finally:
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
