"""The page on a projector: at 1366×768 and 1920×1080, at 100, 150 and 200 % text and plot
scale, nothing overlaps or leaves the window, legends stay in their plots, titles are not cut,
and the plots grow with the text; the presenter layout folds the sidebar and shows the chosen
plots, and its key toggles it."""
import pytest

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
