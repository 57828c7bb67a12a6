"""Screenshots of every model at projector sizes and scales, to look at (not a timing).

    python benchmarks/screenshots.py [--out screenshots] [--models gmm1d,linkage] [--scales 100,150,200]
                                     [--sizes 1366x768,1920x1080] [--presenter]

Serves the app from this checkout (as tests/ui do), opens each model after two EM iterations
(`steps=EM2`) at each window size and text-and-plot scale in headless Chromium, and writes
`<out>/<model>-<width>x<height>-<scale>.png` (the window as the audience sees it, not the whole
page) and prints, per screenshot, the overlaps and the boxes leaving the window that
`tests/ui/test_projector.py` looks for, and the colliding tick labels and cut axis labels that
`tests/ui/test_ticks.py` looks for (on every model; the test walks a few). `--presenter` opens
the presenter layout instead.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ui.conftest import CHROMIUM, is_local, serve, stop  # noqa: E402
from tests.ui.layout import layout_problems  # noqa: E402
from tests.ui.ticks import tick_problems_of  # noqa: E402


def main(argv=None) -> int:
    from explorer.models import MODELS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("--models", default=",".join(sorted(MODELS)))
    parser.add_argument("--scales", default="100,150,200")
    parser.add_argument("--sizes", default="1366x768,1920x1080")
    parser.add_argument("--presenter", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright
    process, url = serve()
    found = 0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for size in args.sizes.split(","):
                width, height = (int(v) for v in size.split("x"))
                page = browser.new_page(viewport={"width": width, "height": height})
                page.route("**/*", lambda r: r.continue_() if is_local(r.request.url) else r.abort())
                for model in args.models.split(","):
                    for scale in args.scales.split(","):
                        extra = "&presenter=1" if args.presenter else ""
                        page.goto(f"{url}?model={model}&scale={scale}&steps=EM2{extra}")
                        page.get_by_text("State 4 of 4").first.wait_for(timeout=60_000)
                        page.wait_for_timeout(1500)
                        name = f"{model}-{width}x{height}-{scale}" + ("-presenter" if args.presenter else "")
                        page.screenshot(path=str(out / f"{name}.png"))
                        problems = layout_problems(page) + tick_problems_of(page)
                        found += len(problems)
                        print(name, "ok" if not problems else "; ".join(problems))
                page.close()
            browser.close()
    finally:
        stop(process)
    print(f"{found} layout problems; screenshots in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
