"""The page on a projector: at 1366×768 and 1920×1080, at 100, 150 and 200 % text and plot
scale, nothing overlaps or leaves the window, legends stay in their plots, titles are not cut,
and the plots grow with the text, as do the step bar, a lesson's caption, the analyses' tables
and the restarts' and basins' plots; the presenter layout folds the sidebar, shows the chosen
plots side by side under the step bar inside the window, and its key toggles it."""
import re

import pytest

from explorer.app.analyses_view import Analyses

from .layout import layout_problems, plot_widths
from .test_lecture import lecture, lecture_server  # noqa: F401 - the walk's server and its log check


def open_at(page, url, scale, extra=""):
    page.goto(f"{url}?model=gmm1d&scale={scale}&steps=EM2{extra}")
    page.get_by_text("State 4 of 4").first.wait_for(timeout=60_000, state="attached")   # hidden when not shown
    page.wait_for_timeout(1200)


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_nothing_overlaps_or_is_cut_and_the_plots_grow_with_the_text(lecture, size):  # noqa: F811
    page, url = lecture
    page.set_viewport_size({"width": size[0], "height": size[1]})
    widths = {}
    for scale in (100, 150, 200):
        open_at(page, url, scale)
        assert layout_problems(page) == [], (size, scale)
        widths[scale] = plot_widths(page)
        assert len(widths[scale]) == 5, widths[scale]
    for title, width in widths[100].items():
        grown = [w for t, w in widths[200].items() if t.split()[0] == title.split()[0]]
        assert grown and grown[0] >= 1.6 * width, (title, width, grown)


def test_the_presenter_layout_folds_the_sidebar_shows_the_chosen_plots_and_f_toggles_it(lecture):  # noqa: F811
    page, url = lecture
    page.set_viewport_size({"width": 1366, "height": 768})
    open_at(page, url, 200, "&presenter=1&show=bound,landscape")
    page.wait_for_function("() => document.getElementById('sidebar').classList.contains('hidden')", timeout=10_000)
    shown = plot_widths(page)
    assert sorted(t.split()[0] for t in shown) == ["Bound", "θ–q"], shown
    assert all(w >= 600 for w in shown.values()), shown           # big enough to read across a room
    assert layout_problems(page) == []
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("f")
    page.wait_for_function("() => !document.getElementById('sidebar').classList.contains('hidden')", timeout=10_000)
    page.wait_for_timeout(800)
    assert len(plot_widths(page)) == 5
    page.keyboard.press("f")
    page.wait_for_function("() => document.getElementById('sidebar').classList.contains('hidden')", timeout=10_000)


FIGURE_JS = """(prefix) => {
  // the drawn figure whose title starts with `prefix`: its title's font size and its box
  let found = null;
  const walk = (view) => {
    const name = view.model ? view.model.constructor.__name__ : "";
    if (name === "Figure" && view.el && view.el.isConnected && view.model.title &&
        view.model.title.text.startsWith(prefix) && view.el.getBoundingClientRect().width > 0) found = view;
    if (view.children) for (const child of view.children()) walk(child);
  };
  for (const root of Bokeh.index.roots) walk(root);
  const r = found.el.getBoundingClientRect();
  return {font: parseFloat(found.model.title.text_font_size), width: r.width, height: r.height,
          top: r.top, bottom: r.bottom, left: r.left, right: r.right};
}"""


def font(locator) -> float:
    return float(locator.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def step_bar(page) -> dict:
    button = page.get_by_role("button", name="E step", exact=True)
    box = button.bounding_box()
    return {"font": font(button), "width": box["width"], "height": box["height"]}


def sizes_at(page, url, scale, basins=False) -> dict:
    """What a lecture shows besides the five plots, at `scale`: the step bar, a lesson's caption
    and buttons, a preset's table, the comparison's and restarts' tables, the restarts' traces
    and, if asked, the basins map."""
    seen = {}
    page.goto(f"{url}?lesson=variational-em&ls=2&scale={scale}")
    page.get_by_text("step 2 of").first.wait_for(timeout=60_000)
    seen["step bar"] = step_bar(page)
    seen["caption"] = font(page.locator("div.caption").first)
    seen["Next"] = page.get_by_role("button", name="Next ▶").bounding_box()["width"]
    page.goto(f"{url}?preset=faithful-1d&scale={scale}")
    page.get_by_text("Ours beside the source").first.wait_for(timeout=60_000)
    seen["preset table"] = font(page.locator("table.preset td").first)
    page.goto(f"{url}?model=gmm1d&family=hard&scale={scale}")
    page.get_by_role("button", name="Compare with exact EM").click()
    page.get_by_text("Fixed points from the same start").first.wait_for(timeout=60_000)
    page.get_by_text("Restarts (local optima)").click()
    page.get_by_role("button", name="Run restarts").click()
    page.get_by_text(re.compile(r"20 starts, \d+ distinct fixed point")).first.wait_for(timeout=60_000)
    if basins:
        page.get_by_role("button", name=re.compile("Basins map")).click()
        page.get_by_text("Fixed points of the basins map").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    tables = page.locator("div.table-block")
    seen["comparison table"] = font(tables.filter(has_text="Fixed points from the same start").locator("td").first)
    seen["restarts table"] = font(tables.filter(has_text="distinct fixed point").locator("td").first)
    seen["restarts plot"] = page.evaluate(FIGURE_JS, "log p from")
    if basins:
        seen["basins table"] = font(page.locator("table.numbers", has_text="starts").last.locator("td").first)
        seen["basins plot"] = page.evaluate(FIGURE_JS, "Basins of")
    seen["problems"] = layout_problems(page)
    return seen


def test_the_step_bar_lesson_tables_and_analyses_plots_grow_with_the_text(lecture):  # noqa: F811
    """At 200 % the step bar, a lesson's caption, every analysis table and the restarts' and
    basins' plots are twice their 100 % size, as the five plots and the numbers are (they stayed
    at 100 %); the analyses' plots stay whole in the window and overlap nothing."""
    page, url = lecture
    page.set_viewport_size({"width": 1366, "height": 768})
    small, large = sizes_at(page, url, 100), sizes_at(page, url, 200, basins=True)
    assert large["problems"] == [], large["problems"]
    # (the basins map, a minute's run, only at 200 %: its table is a numbers table as the
    # restarts' is, its figure has the house fonts as the restarts' has, and it is BASINS at 100 %)
    small["basins table"], small["basins plot"] = small["restarts table"], {
        "font": small["restarts plot"]["font"], "width": Analyses.BASINS[0], "height": Analyses.BASINS[1]}
    for name in ("caption", "Next", "preset table", "comparison table", "restarts table", "basins table"):
        assert large[name] >= 1.8 * small[name], (name, small[name], large[name])
    for what in ("font", "width", "height"):
        assert large["step bar"][what] >= 1.5 * small["step bar"][what], (what, small["step bar"], large["step bar"])
    for plot in ("restarts plot", "basins plot"):
        assert large[plot]["font"] >= 1.8 * small[plot]["font"], (plot, small[plot], large[plot])
        assert large[plot]["height"] >= 1.4 * small[plot]["height"], (plot, small[plot], large[plot])
        assert large[plot]["height"] <= 768 - 56, (plot, large[plot])       # seen whole in the window
    assert large["basins plot"]["width"] >= 1.6 * small["basins plot"]["width"], (small["basins plot"], large["basins plot"])


@pytest.mark.parametrize("scale", [100, 200])
def test_the_presenter_layout_fits_the_step_bar_and_the_chosen_plots_in_the_window(lecture, scale):  # noqa: F811
    """The presenter layout on a 1366×768 projector: the step bar (at the text scale) and the
    bound and landscape plots side by side, all inside the window without scrolling; at 100 %
    the numbers beside them too (at 200 % only one plot fitted under the bar: the bound and the
    bar were never seen together)."""
    page, url = lecture
    page.set_viewport_size({"width": 1366, "height": 768})
    open_at(page, url, scale, "&presenter=1")
    page.wait_for_function("() => document.getElementById('sidebar').classList.contains('hidden')", timeout=10_000)
    page.wait_for_timeout(800)
    bar = page.get_by_role("button", name="E step", exact=True)
    timeline = page.get_by_text("Timeline (state)").first.bounding_box()
    plots = {name: page.evaluate(FIGURE_JS, prefix) for name, prefix in (("bound", "Bound"), ("landscape", "θ–q"))}
    inside = [bar.bounding_box(), timeline] + [
        {"x": p["left"], "y": p["top"], "width": p["width"], "height": p["height"]} for p in plots.values()]
    for box in inside:
        assert box["x"] >= 0 and box["y"] >= 0, box
        assert box["x"] + box["width"] <= 1366 + 1 and box["y"] + box["height"] <= 768 + 1, (box, plots)
    assert abs(plots["bound"]["top"] - plots["landscape"]["top"]) < 2, plots          # side by side
    assert plots["bound"]["height"] >= 0.45 * 768, plots                             # and large
    assert font(bar) == round(14 * scale / 100)                                       # the bar at the scale
    if scale == 100:
        numbers = page.locator("table.numbers").first.bounding_box()
        assert numbers["y"] + numbers["height"] <= 768 and numbers["x"] > plots["landscape"]["left"], numbers
    assert layout_problems(page) == []


def test_a_lesson_in_the_presenter_layout_keeps_its_plots_in_the_window(lecture):  # noqa: F811
    """A teacher's walk: a lesson's caption and formula above the plots pushed them below the
    window in the presenter layout at 200 % (steps 3, 6 and 8); the presenter's lesson bar is
    compact (title and formula on a line, the caption one click away) and the plots fit below it.
    The step bar is one row there (its buttons and timeline took three, and the plots were 310 px
    high, the landscape's y label cut)."""
    page, url = lecture
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{url}?lesson=variational-em&ls=8&scale=200&presenter=1")
    page.get_by_text("step 8 of 8:").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    plots = [page.evaluate(FIGURE_JS, prefix) for prefix in ("Bound", "θ–q")]
    boxes = [page.get_by_role("button", name="E step", exact=True).bounding_box(),
             page.get_by_role("button", name="Next ▶").bounding_box()] + [
        {"x": p["left"], "y": p["top"], "width": p["width"], "height": p["height"]} for p in plots]
    for box in boxes:
        assert box["y"] >= 0 and box["y"] + box["height"] <= 768 + 1, (box, plots)
    assert all(p["height"] >= 0.45 * 768 for p in plots), plots
    timeline = page.get_by_text("Timeline (state)").first.bounding_box()
    assert timeline["y"] < boxes[0]["y"] + boxes[0]["height"], (timeline, boxes[0])     # one row
    page.get_by_text("the caption").first.click()          # the caption, one click away, over the plots:
    page.get_by_text("q must factorise over the two sources").first.wait_for(timeout=10_000)
    page.wait_for_timeout(500)                             # pushed down, they had left the window
    assert [page.evaluate(FIGURE_JS, prefix)["top"] for prefix in ("Bound", "θ–q")] == [p["top"] for p in plots]
    page.locator("body").click(position={"x": 5, "y": 400})
    page.keyboard.press("?")                               # so does the keyboard's list, which Esc hides
    page.get_by_text("show or hide this list").first.wait_for(timeout=10_000)
    assert [page.evaluate(FIGURE_JS, prefix)["top"] for prefix in ("Bound", "θ–q")] == [p["top"] for p in plots]
    page.keyboard.press("Escape")
    page.get_by_text("show or hide this list").first.wait_for(state="hidden", timeout=10_000)


def test_the_sidebar_grows_with_the_text_up_to_its_cap_and_its_widgets_stay_inside(lecture):  # noqa: F811
    """The sidebar's text stayed at 14 px at every scale; it now grows with the scale up to
    Controls.MOST_SCALE, the sidebar as much wider, and no select or slider sticks out of it."""
    from explorer.app.controls import Controls
    page, url = lecture
    page.set_viewport_size({"width": 1366, "height": 768})
    seen = {}
    for scale in (100, 200):
        open_at(page, url, scale)
        sidebar = page.locator("#sidebar").bounding_box()
        model = page.get_by_text("Model", exact=True).first
        inside = [(box["x"] + box["width"], sidebar["x"] + sidebar["width"])     # (Playwright's CSS enters
                  for element in page.locator("#sidebar select, #sidebar .noUi-target").all()  # shadow roots)
                  for box in [element.bounding_box()] if box and box["width"] > 0
                  and box["x"] + box["width"] > sidebar["x"] + sidebar["width"] + 1]
        seen[scale] = {"font": font(model), "width": sidebar["width"], "outside": inside}
    assert seen[100]["outside"] == [] and seen[200]["outside"] == [], seen
    grown = min(200, Controls.MOST_SCALE) / 100
    assert seen[200]["font"] >= 0.95 * grown * seen[100]["font"], seen
    assert seen[200]["width"] >= 0.95 * grown * seen[100]["width"], seen


def test_the_check_measures_a_title_in_the_font_it_is_drawn_in(tmp_path, page):
    # titles were measured in the browser's generic sans-serif (Liberation Sans here), 16 %
    # narrower than the page's DejaVu Sans: a title cut by 24 px passed
    from bokeh.embed import file_html
    from bokeh.plotting import figure
    from bokeh.resources import INLINE
    text = "θ–q landscape (Q′ slice, 5 free)"
    fig = figure(width=330, height=200, title=text, toolbar_location=None)
    fig.title.text_font, fig.title.text_font_size, fig.title.text_font_style = "DejaVu Sans", "20px", "bold"
    fig.line([0, 1], [0, 1])
    path = tmp_path / "title.html"
    path.write_text(file_html(fig, INLINE, "title"))
    page.goto(path.as_uri())
    page.wait_for_function("() => window.Bokeh && Bokeh.index && Bokeh.index.roots && Bokeh.index.roots.length > 0",
                           timeout=30_000)
    widths = page.evaluate("""(text) => { const ctx = document.createElement("canvas").getContext("2d");
        const width = (font) => { ctx.font = "bold 20px " + font; return ctx.measureText(text).width; };
        return [width("DejaVu Sans"), width("sans-serif")]; }""", text)
    assert widths[0] > 330 - 8 > widths[1] * 1.05            # cut in DejaVu Sans, fits in the generic font
    problems = layout_problems(page)
    assert len(problems) == 1 and "is cut" in problems[0] and f"{widths[0]:.0f} px in 330" in problems[0], problems
