"""E-step and M-step clicks timed apart, for several checkouts served at once (an A/B in one run).

    python benchmarks/click_parts.py [--models gmm1d,coins,gmm2d,linkage] [--rounds 4] [--clicks 4]
                                     [--checkout before=/path/to/old] [--checkout after=.]
                                     [--layouts]

Each checkout's `apps/explorer.py` is served by `panel serve` on 127.0.0.1 (its own directory
first on PYTHONPATH). For each model, a Chromium page (1366×768) per checkout opens, warms up
(two E and M clicks) and then, round after round, each page in turn clicks E step and M step
`--clicks` times (the order of the checkouts reversed every other round), so a change in the
machine's load falls on all alike. A click is timed as app_latency.py times it: in the page,
from the click to the frame painted after the last document change. Printed per model and
checkout: p50 of E clicks and of M clicks, and the page's main-thread busy time per click
(Chrome's TaskDuration, which also counts the few ms of this script's polling: compare it
between checkouts, not with other figures).

`--layouts` also counts, per click, the BokehJS plots that lay themselves out again and why (a
layout flag set by a model change, or a side panel whose size changed): a plot laid out again
costs 15-20 ms of a click. (It found the landscape's colour bar: its ticker sent with each new
colour range made the landscape lay out at every M step.)
"""
from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_latency import CHROMIUM, INSTRUMENT, RESULT, free_port, local_only, stop, wait_listening  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

LAYOUTS = """() => {
  const PlotView = Bokeh.require("models/plots/plot_canvas").PlotView;
  window.__layouts = [];
  if (PlotView.prototype.__counted) return;
  PlotView.prototype.__counted = true;
  const check = PlotView.prototype._invalidate_layout_if_needed;
  PlotView.prototype._invalidate_layout_if_needed = function () {
    let why = this._needs_layout ? "a model asked for it" : null;
    for (const panel of this.model.side_panels) {
      const layout = this.renderer_views.get(panel)?.layout;
      if (why != null || layout == null) continue;
      if (layout._dirty) why = `${panel.type} marked dirty`;
      else if (layout._content_size != null) {
        const size = layout._content_size(), horizontal = layout.panel.is_horizontal;
        if ((horizontal ? layout.bbox.height : layout.bbox.width) != (horizontal ? size.height : size.width))
          why = `${panel.type} changed size`;
      }
    }
    check.call(this);
    if (why != null) window.__layouts.push(`${this.model.title?.text ?? "?"}: ${why}`);
  };
}"""


def serve(root: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(root))
    process = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", "apps/explorer.py", "--port", str(port), "--address", "127.0.0.1",
         "--allow-websocket-origin", f"127.0.0.1:{port}"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return process, port


class Page:
    """One checkout's page of one model, instrumented: click → painted, main-thread busy time."""

    def __init__(self, browser, port: int, model: str, layouts: bool):
        self.page = page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.route("**/*", local_only)
        page.goto(f"http://127.0.0.1:{port}/explorer?model={model}")
        page.get_by_role("button", name="E step", exact=True).wait_for(timeout=60_000)
        page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0", timeout=60_000)
        page.wait_for_timeout(1500)
        page.evaluate(INSTRUMENT)
        self.layouts = layouts
        if layouts:
            page.evaluate(LAYOUTS)
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Performance.enable")
        self.times = {"E": [], "M": []}
        self.busy = {"E": [], "M": []}
        self.laid_out = {"E": collections.Counter(), "M": collections.Counter()}
        for _ in range(2):
            self.click("E", keep=False)
            self.click("M", keep=False)

    def _task_ms(self) -> float:
        metrics = self.cdp.send("Performance.getMetrics")["metrics"]
        return 1000 * next(m["value"] for m in metrics if m["name"] == "TaskDuration")

    def click(self, kind: str, keep: bool = True):
        if self.layouts:
            self.page.evaluate("() => { window.__layouts = []; }")
        start = self._task_ms()
        self.page.get_by_role("button", name=f"{kind} step", exact=True).click()
        deadline = time.time() + 30
        result = None
        while result is None:
            if time.time() > deadline:
                raise RuntimeError("a click did not finish within 30 s")
            self.page.wait_for_timeout(50)
            result = self.page.evaluate(RESULT, 300.0)
        if keep:
            self.times[kind].append(result["latency"])
            self.busy[kind].append(self._task_ms() - start)
            if self.layouts:
                self.laid_out[kind].update(self.page.evaluate("() => window.__layouts"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="gmm1d,coins,gmm2d,linkage")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--clicks", type=int, default=4, help="E and M clicks per page and round")
    parser.add_argument("--checkout", action="append", metavar="LABEL=PATH",
                        help="a checkout to serve (repeatable; default: this one, as 'this')")
    parser.add_argument("--layouts", action="store_true", help="count the plots laid out again per click")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 50 or not 1 <= args.clicks <= 50:
        parser.error("--rounds and --clicks must be in 1..50")
    checkouts = [c.split("=", 1) for c in (args.checkout or [f"this={ROOT}"])]
    from playwright.sync_api import sync_playwright
    servers = [(label, *serve(Path(path).resolve())) for label, path in checkouts]
    try:
        for _, process, port in servers:
            wait_listening(process, port, 120, "panel serve")
        print(f"load average {os.getloadavg()[0]:.1f} (2 cores); p50 in ms; {args.rounds} rounds × {args.clicks} "
              f"clicks of each kind")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            for model in args.models.split(","):
                pages = {label: Page(browser, port, model, args.layouts) for label, _, port in servers}
                for r in range(args.rounds):
                    for label in (list(pages) if r % 2 == 0 else list(pages)[::-1]):
                        for _ in range(args.clicks):
                            pages[label].click("E")
                            pages[label].click("M")
                for label, page in pages.items():
                    print(f"{model:16s} {label:10s} E {statistics.median(page.times['E']):6.1f}  "
                          f"M {statistics.median(page.times['M']):6.1f}   main thread busy per click: "
                          f"E {statistics.median(page.busy['E']):6.1f}  M {statistics.median(page.busy['M']):6.1f}",
                          flush=True)
                    for kind in "EM":
                        n = len(page.times[kind])
                        for why, count in page.laid_out[kind].most_common():
                            print(f"{'':28s} {kind}: {count / n:4.1f} a click laid out again: {why}")
                    page.page.close()
            browser.close()
    finally:
        for _, process, _ in servers:
            stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
