"""Drive the served app in Chromium: for each model, step E and M, check the numbers move,
every plot's data sources are filled, no console error and no traceback; save a screenshot."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from explorer.models import MODELS as BUILT_IN

from .ticks import TICKS_JS

MODELS = sorted(BUILT_IN)

SOURCES_JS = """() => {
  // the data source of every visible glyph renderer (hidden ones, e.g. the fixed points of a
  // comparison not yet run, may be empty)
  const out = [];
  for (const doc of Bokeh.documents)
    for (const m of doc.all_models)
      if (m.constructor.__name__ === 'GlyphRenderer' && m.visible)
        out.push([m.data_source.id, m.data_source.get_length()]);
  return out;
}"""


def wait_for_app(page):
    page.get_by_role("button", name="E step", exact=True).wait_for(timeout=30_000)
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0", timeout=30_000)


def select(page, label):
    """A sidebar menu by its label (their order changes as cards are added)."""
    return page.get_by_label(label, exact=True)


def numbers_text(page) -> str:
    return page.locator("table.numbers").first.inner_text()


def click(page, name, expect_state):
    page.get_by_role("button", name=name, exact=True).click()
    page.get_by_text(re.compile(rf"State {expect_state} of")).first.wait_for(timeout=20_000)


def half_steps(page, first: int, last: int, pause_ms: int = 0):
    """E, M, E, ... from state `first` to `last` (an odd state is reached by an E step), each
    click awaited; `pause_ms` after each, for the page to paint."""
    for state in range(first, last + 1):
        click(page, "E step" if state % 2 else "M step", state)
        if pause_ms:
            page.wait_for_timeout(pause_ms)


@pytest.mark.parametrize("model", MODELS)
def test_each_model_steps_and_draws(watched_page, app_url, model, output_path):
    page = watched_page
    page.goto(f"{app_url}?model={model}")
    wait_for_app(page)
    page.get_by_text(re.compile(r"State 0 of 0")).first.wait_for(timeout=20_000)
    before = numbers_text(page)
    click(page, "E step", 1)
    after_e = numbers_text(page)
    click(page, "M step", 2)
    after_m = numbers_text(page)
    assert before != after_e != after_m
    assert page.get_by_text(re.compile(r"^M step \((θ ← argmax F\(θ, q\)|CM step|gradient)")).count() == 1
    page.wait_for_timeout(500)
    lengths = page.evaluate(SOURCES_JS)
    assert len(lengths) >= 8
    empty = [source for source, n in lengths if n == 0]
    assert not empty, f"empty data sources: {empty}"
    assert page.get_by_text("Traceback").count() == 0
    page.screenshot(path=str(Path(output_path) / f"{model}.png"), full_page=True)
    assert not page.watch.errors, page.watch.errors


def test_model_select_and_undo_redo(watched_page, app_url, output_path):
    page = watched_page
    page.goto(app_url)
    wait_for_app(page)
    select(page, "Model").select_option("coins")
    expect(select(page, "Data")).to_have_value("do-batzoglou", timeout=20_000)
    click(page, "EM iteration", 2)
    click(page, "Undo", 1)
    expect(page.get_by_text(re.compile(r"\(after an E step; family")).first).to_be_visible()
    click(page, "Redo", 2)
    page.get_by_role("button", name="Run to convergence", exact=True).click()
    page.get_by_text(re.compile("converged after")).first.wait_for(timeout=20_000)
    page.screenshot(path=str(Path(output_path) / "coins-converged.png"))
    assert not page.watch.errors, page.watch.errors


def test_bad_initial_theta_shows_a_message(watched_page, app_url):
    page = watched_page
    page.goto(f"{app_url}?model=linkage")
    wait_for_app(page)
    box = page.get_by_placeholder('e.g. {"means": [50, 80]}')
    box.fill('{"theta": 7}')
    box.press("Enter")
    page.get_by_text("must lie in [0, 1]").first.wait_for(timeout=20_000)
    click(page, "E step", 1)   # the session still works
    assert not page.watch.errors, page.watch.errors


def test_constrained_family_leaves_a_gap_after_the_e_step(watched_page, app_url, output_path):
    page = watched_page
    page.goto(f"{app_url}?model=two-source")
    wait_for_app(page)
    select(page, "Family of q").select_option("mean-field")
    page.get_by_role("button", name="Compare with exact EM", exact=True).wait_for(timeout=20_000)
    click(page, "E step", 1)
    page.get_by_text(re.compile("not 0")).first.wait_for(timeout=20_000)
    row = page.locator("tr", has_text="KL(q").first.inner_text()
    kl = float(row.split("\t")[1] if "\t" in row else row.split()[-2])
    assert kl > 0.01, row
    page.get_by_role("button", name="Compare with exact EM", exact=True).click()
    page.get_by_text("Fixed points from the same start").first.wait_for(timeout=30_000)
    page.screenshot(path=str(Path(output_path) / "two-source-mean-field.png"))
    assert not page.watch.errors, page.watch.errors


def test_a_custom_model_from_the_command_line(watched_page, custom_app_url, output_path):
    page = watched_page
    page.goto(custom_app_url)
    wait_for_app(page)
    expect(select(page, "Model")).to_have_value("zip", timeout=20_000)
    expect(select(page, "Data")).to_have_value("counts")
    click(page, "E step", 1)
    click(page, "M step", 2)
    lengths = page.evaluate(SOURCES_JS)
    assert lengths and not [s for s, n in lengths if n == 0]
    page.screenshot(path=str(Path(output_path) / "custom-zip.png"))
    assert not page.watch.errors, page.watch.errors


def test_the_url_cannot_load_code(watched_page, app_url):
    """Models come from the server's command line or Python only: a model spec in the URL is
    not a model name, so the app keeps its default model, says so, and lists no such model."""
    page = watched_page
    page.goto(f"{app_url}?model=examples/buggy_gmm.py:BuggyGMM")
    wait_for_app(page)
    menu = select(page, "Model")
    expect(menu).to_have_value("linkage", timeout=20_000)
    options = menu.locator("option").all_inner_texts()
    assert not any("buggy" in option.lower() for option in options)
    page.get_by_text(re.compile("not a model here")).first.wait_for(timeout=20_000)


def numbers_panel(page) -> dict:
    """The numbers panel's values, by row name."""
    rows = page.locator("table.numbers tr").all_inner_texts()
    out = {}
    for row in rows:
        cells = [c.strip() for c in row.split("\t")]
        if len(cells) >= 2 and cells[1]:
            try:
                out[cells[0]] = float(cells[1].replace("−", "-"))
            except ValueError:
                pass
    return out


def kl_legend(page) -> float:
    label = page.evaluate("""() => { for (const doc of Bokeh.documents) for (const m of doc.all_models)
        if (m.constructor.__name__ === 'LegendItem' && m.label && m.label.value && m.label.value.startsWith('KL now'))
          return m.label.value; return null; }""")
    return float(label.split("=")[1])


def test_typed_initial_theta_and_enter_is_taken_and_shown(watched_page, app_url):
    page = watched_page
    for attempt in range(4):               # it used to fail 3 times in 4
        page.goto(f"{app_url}?model=gmm1d")
        wait_for_app(page)
        box = page.get_by_placeholder('e.g. {"means": [50, 80]}')
        box.fill('{"means": [50, %d]}' % (80 + attempt))
        box.press("Enter")
        page.get_by_text(f"means = [50, {80 + attempt}]").first.wait_for(timeout=20_000)
        click(page, "E step", 1)
        assert page.get_by_text("Error").count() == 0 and page.get_by_text("Traceback").count() == 0
    assert not page.watch.errors, page.watch.errors


def test_the_bound_legend_says_the_numbers_panels_kl(watched_page, app_url):
    page = watched_page
    page.goto(f"{app_url}?model=gmm1d")
    wait_for_app(page)
    for step, state in (("E step", 1), ("M step", 2), ("E step", 3)):
        click(page, step, state)
        page.wait_for_timeout(300)
        kl = numbers_panel(page)["KL(q ‖ p(Z|X,θ))"]
        assert kl_legend(page) == pytest.approx(kl, rel=1e-3, abs=1e-9)
    assert not page.watch.errors, page.watch.errors


LEGENDS_JS = """(mark) => {
  // every legend's entries on the page: (plot title, label shown, item hidden/muted, the element
  // kept since `mark` set a flag on it); `mark` flags every entry's element
  const legends = [];
  const walk = (view) => {
    if (view.renderer_views) for (const r of view.renderer_views.values()) if (r.model.type === "Legend") legends.push(r);
    if (view.children) for (const child of view.children()) walk(child);
  };
  for (const root of Bokeh.index.roots) walk(root);
  const out = [];
  for (const legend of legends) for (const entry of legend.entries) {
    if (mark) entry.el.__kept = true;
    out.push({plot: legend.parent.model.title ? legend.parent.model.title.text : "", shown: entry.label_el.textContent,
              label: `${entry.label}`, kept: entry.el.__kept === true, inactive: entry.el.className.includes("inactive"),
              visible: entry.item.renderers.every((r) => r.visible)});
  }
  return out;
}"""


def test_a_click_keeps_the_legends_entries_and_shows_their_new_labels(watched_page, app_url):
    # BokehJS built every legend again whenever a source its items reach changed: 18 times a
    # click for the trace's, 13-20 ms of a click (explorer/app/quiet_legends.py)
    page = watched_page
    page.goto(f"{app_url}?model=gmm1d")
    wait_for_app(page)
    click(page, "E step", 1)
    click(page, "M step", 2)
    page.wait_for_timeout(300)
    before = page.evaluate(LEGENDS_JS, True)
    assert {e["plot"] for e in before} >= {"Bound along means[0]", "Trace: log p, F and KL"}
    kl_label = [e["shown"] for e in before if e["shown"].startswith("KL now")]
    # a click on the trace's KL entry hides its curve (the legends' click policy)
    page.evaluate("""() => { const walk = (v, out) => { if (v.renderer_views) for (const r of v.renderer_views.values())
        if (r.model.type === "Legend") out.push(r); if (v.children) for (const c of v.children()) walk(c, out); return out; };
      const legends = Bokeh.index.roots.flatMap((root) => walk(root, []));
      const entry = legends.flatMap((l) => l.entries).find((e) => e.label === "KL" && e.item.renderers.length);
      entry.el.dispatchEvent(new PointerEvent("pointerdown", {bubbles: true})); }""")
    click(page, "E step", 3)
    click(page, "M step", 4)
    page.wait_for_timeout(300)
    after = page.evaluate(LEGENDS_JS, False)
    assert [(e["plot"], e["label"]) for e in after if not e["kept"]] == []     # no entry built again
    assert all(e["shown"] == e["label"] for e in after)                         # each shows its label
    shown_kl = [e["shown"] for e in after if e["shown"].startswith("KL now")]
    assert len(shown_kl) == 1 and shown_kl != kl_label                          # the new KL, written
    assert float(shown_kl[0].split("=")[1]) == pytest.approx(kl_legend(page), rel=1e-9)
    kl = [e for e in after if e["plot"].startswith("Trace") and e["label"] == "KL"]
    assert kl and not kl[0]["visible"] and kl[0]["inactive"]                   # still hidden, still marked
    assert not page.watch.errors, page.watch.errors


def test_the_landscape_colour_bar_labels_follow_its_range_step_after_step(watched_page, app_url):
    # the server sends the bar's range only; the page works the ticks out (and never lays the
    # plot out again for them): each step's labels lie in that step's range
    page = watched_page
    page.goto(f"{app_url}?model=gmm2d")
    wait_for_app(page)
    ranges = set()
    for state in range(1, 7):
        click(page, "E step" if state % 2 else "M step", state)
        page.wait_for_timeout(300)
        low, high = page.evaluate("""() => { for (const m of Bokeh.documents[0].all_models)
            if (m.type === "LinearColorMapper" && m.palette.length === 12) return [m.low, m.high]; }""")
        ranges.add((low, high))
        bar = [axis for axis in page.evaluate(TICKS_JS) if axis["in_colorbar"]]
        ticks = [float(t["text"].replace("−", "-")) for axis in bar for t in axis.get("ticks", [])]
        assert len(ticks) >= 2 and all(low <= t <= high for t in ticks), (state, low, high, ticks)
    assert len(ranges) >= 3                     # the range did move
    assert not page.watch.errors, page.watch.errors


def test_a_copied_url_and_the_theme_toggle_keep_the_state(watched_page, app_url, browser):
    page = watched_page
    page.goto(f"{app_url}?model=coins")
    wait_for_app(page)
    click(page, "EM iteration", 2)
    click(page, "EM iteration", 4)
    click(page, "E step", 5)
    click(page, "Undo", 4)
    page.wait_for_timeout(500)
    numbers, url = numbers_panel(page), page.url
    assert "steps=EM2E" in url and "at=4" in url
    other = browser.new_page()                         # another browser window, same link
    other.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1")
                else route.abort())
    other.goto(url)
    wait_for_app(other)
    other.get_by_text(re.compile(r"State 4 of 5")).first.wait_for(timeout=20_000)
    assert numbers_panel(other) == numbers                 # the same numbers, to the last digit shown
    other.close()
    page.locator("#theme-switch").click()                   # the toggle reloads the page
    page.wait_for_url(re.compile("theme=dark"), timeout=20_000)
    wait_for_app(page)
    page.get_by_text(re.compile(r"State 4 of 5")).first.wait_for(timeout=20_000)
    assert numbers_panel(page) == numbers
    assert not page.watch.errors, page.watch.errors


TEXT_FITS_JS = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const width = (text, size, bold) => { ctx.font = `${bold ? 'bold ' : ''}${size} DejaVu Sans, sans-serif`;
                                        return ctx.measureText(text).width; };
  const out = [];
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    if (m.constructor.__name__ !== 'Figure' || !m.visible || !m.outer_width) continue;
    const frame = m.inner_width;
    if (m.title && m.title.text) {
      const w = width(m.title.text, m.title.text_font_size, true);
      // a left-aligned title starts at the frame's left edge; a centred one has the whole width
      const room = m.title.align === 'center' ? m.outer_width : m.inner_width + m.min_border_right;
      if (w > room) out.push(`title "${m.title.text}" ${w.toFixed(0)} > ${room}`);
    }
    for (const legend of [...m.below, ...m.above]) {
      if (legend.constructor.__name__ !== 'Legend') continue;
      const items = legend.items.filter((it) => it.visible !== false);
      const ncols = legend.ncols === 'auto' ? items.length : legend.ncols;
      let widest = 0;
      for (let i = 0; i < items.length; i += ncols) {
        let row = 0;
        for (const it of items.slice(i, i + ncols)) {
          const label = it.label ? (it.label.value || it.label.field || '') : '';
          row += width(label, legend.label_text_font_size, false) + legend.glyph_width + legend.label_standoff + 2 * legend.padding + legend.spacing;
        }
        widest = Math.max(widest, row);
      }
      if (widest > m.outer_width) out.push(`legend of "${m.title.text}" ${widest.toFixed(0)} > ${m.outer_width}`);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
@pytest.mark.parametrize("model", ["linkage", "gmm1d", "two-source", "censored", "student-t", "mvn-missing", "hmm"])
def test_no_title_or_legend_is_cut_off(watched_page, app_url, model, size, output_path):
    page = watched_page
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(f"{app_url}?model={model}")
    wait_for_app(page)
    click(page, "E step", 1)
    click(page, "M step", 2)
    page.wait_for_timeout(800)
    assert page.evaluate(TEXT_FITS_JS) == []
    page.screenshot(path=str(Path(output_path) / f"fit-{model}-{size[0]}.png"))
    assert not page.watch.errors, page.watch.errors


def test_no_request_leaves_the_machine(page, app_url):
    outside = []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else (outside.append(route.request.url), route.abort()))
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{app_url}?model=gmm1d")
    wait_for_app(page)
    click(page, "E step", 1)
    page.wait_for_timeout(1000)
    assert outside == [] and errors == []


def test_play_stops_within_one_state_of_pause(watched_page, app_url):
    page = watched_page
    page.goto(f"{app_url}?model=gmm1d&speed=10")
    wait_for_app(page)
    state = """() => { for (const doc of Bokeh.documents) for (const m of doc.all_models)
                 if (m.title === 'Timeline (state)') return m.value; return -1; }"""
    page.get_by_role("button", name="▶ Play", exact=True).click()
    page.wait_for_function(f"() => ({state})() >= 3", timeout=20_000)
    page.get_by_role("button", name="⏸ Pause", exact=True).click()
    at_pause = page.evaluate(state)
    page.wait_for_timeout(1500)
    assert page.evaluate(state) - at_pause <= 1
    assert not page.watch.errors, page.watch.errors


def test_every_keyboard_shortcut(watched_page, app_url):
    page = watched_page
    page.goto(f"{app_url}?model=linkage")
    wait_for_app(page)
    page.get_by_text(re.compile(r"State 0 of 0")).first.wait_for(timeout=20_000)
    page.locator("body").click(position={"x": 700, "y": 10})       # focus the page, not a box

    def press(key, state, last=None):
        page.keyboard.press(key)
        page.get_by_text(re.compile(rf"State {state} of {last if last is not None else state}\b")).first.wait_for(
            timeout=20_000)

    press("e", 1)
    press("m", 2)
    press("Space", 4)
    press("u", 3, 4)
    press("r", 4)
    press("ArrowLeft", 3, 4)
    press("ArrowLeft", 2, 4)
    press("ArrowRight", 3, 4)
    page.keyboard.press("Shift+?")
    expect(page.get_by_text("show or hide this list")).to_be_visible(timeout=10_000)
    page.keyboard.press("Shift+?")
    expect(page.get_by_text("show or hide this list")).to_be_hidden(timeout=10_000)
    page.keyboard.press("p")                                        # Play, then Pause
    expect(page.get_by_role("button", name="⏸ Pause")).to_be_visible(timeout=10_000)
    page.keyboard.press("p")
    expect(page.get_by_role("button", name="▶ Play")).to_be_visible(timeout=10_000)
    # typing in a text box is text, not a shortcut
    box = page.get_by_placeholder(re.compile("e.g."))
    box.click()
    box.type("em")
    page.wait_for_timeout(800)
    assert box.input_value() == "em"
    assert page.get_by_text("Traceback").count() == 0
    assert not page.watch.errors, page.watch.errors


def test_the_lessons_next_and_back_change_captions_and_numbers(watched_page, app_url):
    page = watched_page
    page.goto(f"{app_url}?lesson=variational-em")
    wait_for_app(page)
    page.get_by_text("step 1 of 8").first.wait_for(timeout=20_000)
    first = numbers_text(page)
    seen = ["step 1 of 8"]
    for number in (2, 3, 4):
        page.get_by_role("button", name="Next ▶").click()
        page.get_by_text(f"step {number} of 8").first.wait_for(timeout=20_000)
        seen.append(f"step {number} of 8")
    page.get_by_text(re.compile(r"State 2 of 2")).first.wait_for(timeout=20_000)
    assert numbers_text(page) != first
    page.get_by_role("button", name="◀ Back").click()
    page.get_by_text("step 3 of 8").first.wait_for(timeout=20_000)
    page.get_by_text(re.compile(r"State 1 of 1")).first.wait_for(timeout=20_000)
    expect(page.get_by_text("Key result 1: the E step closes the gap").first).to_be_visible()
    assert page.get_by_text("Traceback").count() == 0
    assert not page.watch.errors, page.watch.errors


def test_the_standalone_page_opens_from_disk_and_its_slider_redraws(browser, tmp_path):
    from explorer import Session, make_model
    from explorer.standalone import standalone_html
    session = Session(make_model("gmm1d"), seed=0)
    for _ in range(6):
        session.iterate()
    path = tmp_path / "run.html"
    path.write_text(standalone_html(session))
    page = browser.new_page()
    requests = []
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else
               (requests.append(r.request.url), r.abort()))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    page.get_by_text("State 12 of 12").first.wait_for(timeout=20_000)
    before = page.evaluate(SOURCES_JS)
    page.evaluate("""() => { for (const m of Bokeh.documents[0].all_models)
                               if (m.constructor.__name__ === 'Slider') m.value = 3; }""")
    page.get_by_text("State 3 of 12").first.wait_for(timeout=10_000)
    after = page.evaluate(SOURCES_JS)
    assert before != after                       # the views were redrawn
    assert not errors, errors
    assert not requests, requests
    page.close()


def test_all_plots_in_one_image_and_the_standalone_page_built_with_its_progress(watched_page, app_url, tmp_path):
    import struct
    import xml.etree.ElementTree as ET
    page = watched_page
    page.goto(f"{app_url}?model=gmm1d")
    wait_for_app(page)
    click(page, "EM iteration", 2)
    click(page, "EM iteration", 4)
    page.get_by_text("Export", exact=True).click()
    files = {}
    for kind in ("png", "svg"):
        with page.expect_download() as download:
            page.get_by_role("button", name=f"All plots ({kind.upper()})").click()
        assert download.value.suggested_filename == f"em-plots.{kind}"
        files[kind] = tmp_path / f"em-plots.{kind}"
        download.value.save_as(files[kind])
    png = files["png"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 3 * 200 and height >= 2 * 200                # three plots across, two rows
    svg = ET.parse(files["svg"]).getroot()
    nested = svg.findall("{http://www.w3.org/2000/svg}svg")
    assert len(nested) == 5 and len({(s.get("x"), s.get("y")) for s in nested}) == 5   # five plots, placed apart

    page.get_by_role("button", name="Run to convergence").click()        # many states: the build takes seconds
    page.get_by_text(re.compile(r"State (\d\d+) of \1")).first.wait_for(timeout=30_000)
    states = re.search(r"State (\d+) of", page.locator(".status").first.inner_text()).group(1)
    page.get_by_role("button", name="Build the standalone page (HTML)").click()
    page.get_by_text(re.compile(r"recording state \d+ of \d+")).first.wait_for(timeout=10_000)
    expect(page.get_by_role("button", name="E step", exact=True)).to_be_disabled(timeout=5_000)  # the steps wait
    link = page.get_by_role("button", name=re.compile(r"Download em-run\.html \(\d+\.\d MB\)"))
    link.wait_for(timeout=60_000)
    expect(page.get_by_role("button", name="E step", exact=True)).to_be_enabled()
    with page.expect_download() as download:
        link.click()
    html = Path(download.value.path()).read_text()
    assert f"State {states} of {states}" in html and "Bokeh" in html
    assert not page.watch.errors, page.watch.errors


# the page's plot views, in the page's order: a JS function the snippets below begin with
PLOT_VIEWS = """const plot_views = () => {
    const {PlotView} = Bokeh.require("models/plots/plot_canvas");
    const out = [], seen = new Set();
    const walk = (view) => {
      if (view == null || seen.has(view)) return;
      seen.add(view);
      if (view instanceof PlotView) out.push(view);
      for (const child of view.child_views ?? []) walk(child);
    };
    for (const root of Bokeh.index.roots) walk(root);
    return out;
  };"""

BACKENDS_JS = "() => {" + PLOT_VIEWS + """
  return plot_views().map((view) => view.canvas_view.model.output_backend);
}"""


FRAMES_JS = "() => {" + PLOT_VIEWS + """
  // each plot's frame (where the data are drawn) inside its plot, and each legend glyph's size
  return plot_views().map((view) => {
    const f = view.frame.bbox, legends = [...view.renderer_views.values()].filter(v => v.entries);
    return {title: view.model.title ? view.model.title.text : "", top: f.top, bottom: f.bottom,
            height: view.bbox.height,
            glyphs: legends.flatMap(l => l.entries.map(({glyph}) => {
              const box = glyph.canvas.getBoundingClientRect();
              return [Math.round(box.width), Math.round(box.height), l.model.glyph_width, l.model.glyph_height]; }))};
  });
}"""


def test_the_svg_switch_redraws_the_plots_as_svg_and_back(watched_page, app_url):
    # the switch set each plot's output_backend, but BokehJS makes a plot's canvas once: the
    # plots stayed canvas (and their save buttons wrote PNG) until the page was built again
    page = watched_page
    page.goto(f"{app_url}?model=gmm1d")
    wait_for_app(page)
    assert page.evaluate(BACKENDS_JS) == ["canvas"] * 5
    # in the View card, open; the checkbox's label is a sibling of its input, not a <label>
    switch = page.locator(".bk-Checkbox", has_text="Draw the plots as SVG").locator("input")
    state = 0
    for backend in ("svg", "canvas"):
        switch.click()
        page.wait_for_function(f"() => ({BACKENDS_JS})().join() === '{','.join([backend] * 5)}'", timeout=20_000)
        page.get_by_text(f"State {state} of {state}").first.wait_for(timeout=10_000)    # the same state, drawn anew
        # the URL says so (a copied link lost it)
        page.wait_for_function(f"() => location.search.includes('svg=1') === {'true' if backend == 'svg' else 'false'}",
                               timeout=10_000)
        for step in ("E step", "M step"):
            # the first E step's new legend entry (the landscape's "E: q moves") was laid out
            # at the bare <svg>'s 300 x 150 px: the landscape's frame went 750 px above the
            # plot, a strip at its top (quiet_legends.py)
            state += 1
            click(page, step, state)
            page.wait_for_timeout(500)                 # the legends' entries built, the plots laid out
            frames_are_whole(page, (backend, step))


def frames_are_whole(page, where):
    frames = page.evaluate(FRAMES_JS)
    assert len(frames) == 5
    for frame in frames:
        assert 0 <= frame["top"] and frame["bottom"] <= frame["height"], (where, frame)
        assert frame["bottom"] - frame["top"] >= frame["height"] / 3, (where, frame)
        assert all((w, h) == (gw, gh) for w, h, gw, gh in frame["glyphs"]), (where, frame)


@pytest.mark.parametrize("query", ["model=linkage&svg=1", "lesson=variational-em&ls=1&svg=1"])
def test_a_link_with_svg_opens_whole_svg_plots(watched_page, app_url, query):
    # a copied link with svg=1 opened with 3-4 plots as strips at their cells' tops (the
    # teacher's walk): the legends were built before the page's legend component was in place
    page = watched_page
    page.goto(f"{app_url}?{query}")
    wait_for_app(page)
    page.wait_for_function(f"() => ({BACKENDS_JS})().join() === '{','.join(['svg'] * 5)}'", timeout=20_000)
    page.wait_for_timeout(800)
    frames_are_whole(page, query)


VISUAL_STYLES_JS = """() => {
  // every visual of every view on the page: the CSS variable's value the page keeps
  // (steady_styles.py) against the browser's fresh answer
  const once = Bokeh.require("core/visuals/visual").VisualProperties.prototype.__once === true;
  const plot = Bokeh.require("models/plots/plot_canvas").PlotView.prototype;
  const out = {checked: 0, differ: [], once: once ? "on" : "off", font_size: plot.__font_size_once === true,
               font_sizes: []};
  const seen = new Set();
  const walk = (view) => {
    if (view == null || seen.has(view)) return;
    seen.add(view);
    if (view instanceof Bokeh.require("models/plots/plot_canvas").PlotView)
      out.font_sizes.push([view.base_font_size, parseFloat(getComputedStyle(view.el).fontSize)]);
    if (view.visuals && view.el) for (const visual of view.visuals) {
      if (typeof visual._get_css_value !== "function") continue;     // a glyph's vectors: no CSS
      for (const attr of visual.attrs) {
        const name = attr.replaceAll("_", "-");
        const kept = visual._get_css_value(name);
        const fresh = getComputedStyle(visual.obj.el).getPropertyValue(`${visual.css_prefix}${name}`);
        out.checked += 1;
        if (kept !== fresh) out.differ.push(`${view.model.type} ${visual.css_prefix}${name}: ${kept} / ${fresh}`);
      }
    }
    for (const children of [view.renderer_views, view.child_views]) if (children) for (const c of children.values ? children.values() : children) walk(c);
    if (view.children) for (const c of view.children()) walk(c);
  };
  for (const root of Bokeh.index.roots) walk(root);
  return out;
}"""


def test_the_plots_css_variables_and_font_size_kept_are_the_browsers_answers(watched_page, app_url):
    # BokehJS asked the browser for a plot element's computed style before painting each axis,
    # title or annotation: 45 style passes a click (explorer/app/steady_styles.py)
    page = watched_page
    page.goto(f"{app_url}?model=gmm2d")
    wait_for_app(page)
    half_steps(page, 1, 4)
    page.wait_for_timeout(300)
    result = page.evaluate(VISUAL_STYLES_JS)
    assert result["once"] == "on" and result["font_size"]
    assert result["checked"] > 300 and result["differ"] == [], result["differ"][:10]
    assert len(result["font_sizes"]) >= 5 and all(kept == fresh for kept, fresh in result["font_sizes"])
    # a plot's font size is kept for one frame only: a change is seen at the next paint
    sizes = page.evaluate(FONT_SIZE_CHANGE_JS)
    assert sizes["before"] != 21 and sizes["next_frame"] == 21, sizes
    assert not page.watch.errors, page.watch.errors


FONT_SIZE_CHANGE_JS = "async () => {" + PLOT_VIEWS + """
  const plot = plot_views()[0];
  const before = plot.base_font_size;
  const old = plot.el.style.fontSize;
  plot.el.style.fontSize = "21px";
  const same_frame = plot.base_font_size;
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const next_frame = plot.base_font_size;
  plot.el.style.fontSize = old;
  return {before, same_frame, next_frame};
}"""


SAME_TEXT_JS = """async () => {
  // a BokehJS style sheet given its own text again is left alone; given new text, it changes
  const {InlineStyleSheet} = Bokeh.require("core/dom");
  const sheet = new InlineStyleSheet(":host { left: 1px; }");
  document.head.appendChild(sheet.el);
  let mutations = 0;
  const observer = new MutationObserver((records) => { mutations += records.length; });
  observer.observe(sheet.el, {childList: true, characterData: true, subtree: true});
  sheet.replace(":host { left: 1px; }");
  await new Promise((resolve) => setTimeout(resolve, 0));
  const same = mutations;
  sheet.replace(":host { left: 2px; }");
  await new Promise((resolve) => setTimeout(resolve, 0));
  observer.disconnect();
  sheet.remove();
  return {active: InlineStyleSheet.prototype.__same_text_unwritten === true, same, changed: mutations - same,
          text: sheet.el.textContent};
}"""


def test_a_style_sheet_is_written_only_when_its_text_changes(watched_page, app_url):
    # each legend wrote its position into its style sheet at every paint, the same text, and the
    # browser then worked the page's styles out again (explorer/app/steady_styles.py)
    page = watched_page
    page.goto(f"{app_url}?model=gmm1d")
    wait_for_app(page)
    click(page, "E step", 1)
    result = page.evaluate(SAME_TEXT_JS)
    assert result == {"active": True, "same": 0, "changed": result["changed"], "text": ":host { left: 2px; }"}
    assert result["changed"] >= 1
    legends = page.evaluate(LEGENDS_JS, False)
    assert legends and all(e["shown"] == e["label"] for e in legends)       # the legends still drawn
    assert not page.watch.errors, page.watch.errors


def gmm1d_after_an_em_iteration(page, app_url, component: str):
    """gmm1d's page with the page component `component` (its data attribute) on, after E and M."""
    page.goto(f"{app_url}?model=gmm1d")
    wait_for_app(page)
    assert page.locator(f"[data-{component}]").first.get_attribute(f"data-{component}", timeout=5_000) == "on"
    half_steps(page, 1, 2, pause_ms=200)


GLYPH_BOXES_JS = "(step) => {" + PLOT_VIEWS + """
  // each glyph renderer's place written into its element's style sheet, and the box of its data
  // on screen now; at step "style", the trace's first line is given a style of its own
  const glyphs = plot_views().flatMap((plot) => plot.computed_renderer_views
    .filter((view) => view.model.type === "GlyphRenderer")
    .map((view) => ({view, plot: plot.model.title ? plot.model.title.text : ""})));
  if (step === "style") {
    const {view} = glyphs.find((g) => g.plot.startsWith("Trace"));
    view.model.styles = {outline: "1px dotted transparent"};
    view.__styled = true;
  }
  return glyphs.map(({view, plot}) => ({plot, styled: view.__styled === true,
    written: view.position.el ? view.position.el.textContent.replace(/\\s+/g, " ") : null,
    width: view.bbox != null && view.bbox.is_valid ? view.bbox.width : null}));
}"""


def test_a_glyph_renderers_empty_element_is_placed_once(watched_page, app_url):
    # BokehJS wrote the box of each glyph's data into its renderer's (empty, unseen) element's
    # style sheet at every paint: 12-18 new style texts a click, each making the next canvas text
    # wait for the page's styles again (explorer/app/steady_styles.py)
    page = watched_page
    gmm1d_after_an_em_iteration(page, app_url, "glyph-boxes")
    before = page.evaluate(GLYPH_BOXES_JS, "style")
    half_steps(page, 3, 6, pause_ms=200)
    after = page.evaluate(GLYPH_BOXES_JS, "")
    assert len(before) == len(after) >= 15
    trace = [(b, a) for b, a in zip(before, after) if a["plot"].startswith("Trace")]
    moved = [(b, a) for b, a in trace if not a["styled"] and b["width"] != a["width"]]
    assert moved, "the trace's x range grows with each step: its glyphs' boxes move"
    for b, a in zip(before, after):
        if not a["styled"]:
            assert a["written"] == b["written"], (a["plot"], b["written"], a["written"])
    styled = next(a for a in after if a["styled"])
    assert f"width:    {styled['width']}px".replace("    ", " ") in styled["written"], styled
    assert not page.watch.errors, page.watch.errors


KEPT_GLYPHS_JS = "() => {" + PLOT_VIEWS + """
  // every glyph view that reads its renderer's glyph (selected, unselected, muted, decimated):
  // what it inherits reads the glyph's value, and it inherits what BokehJS's rule says it may
  const out = {views: 0, inherited: 0, differ: [], kept: window.__inherited_defined ?? null};
  for (const plot of plot_views()) for (const renderer of plot.computed_renderer_views) {
    if (renderer.model.type !== "GlyphRenderer") continue;
    const others = [renderer.selection_glyph, renderer.nonselection_glyph, renderer.hover_glyph,
                    renderer.muted_glyph, renderer.decimated_glyph];
    for (const view of others) {
      if (view == null || view.base == null) continue;
      out.views += 1;
      for (const key of Object.getOwnPropertyNames(view)) {
        if (!key.startsWith("inherited_") || view[key] !== true) continue;
        const attr = key.slice("inherited_".length);
        out.inherited += 1;
        if (view[attr] !== view.base[attr]) out.differ.push(`${renderer.model.glyph.type}.${attr} differs`);
      }
      for (const prop of view.model) {
        const flag = view[`inherited_${prop.attr}`];
        if (flag === undefined) continue;
        if (view._can_inherit_from(prop, view.base) !== flag)
          out.differ.push(`${renderer.model.glyph.type}.${prop.attr}: inherited ${flag}`);
      }
    }
  }
  return out;
}"""

FLIP_ALPHA_JS = "async () => {" + PLOT_VIEWS + """
  // the trace's first line drawn selected at another alpha, then at the line's own again: the
  // selected glyph view holds a value of its own in between (its glyph is the page's own model,
  // not the document's)
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const trace = plot_views().find((view) => view.model.title && view.model.title.text.startsWith("Trace"));
  const line = trace.computed_renderer_views.find((view) => view.model.type === "GlyphRenderer" &&
                                                        view.model.glyph.type === "Line");
  const selected = line.selection_glyph.model;
  const alpha = selected.line_alpha;
  selected.line_alpha = 0.5;
  await frame();
  const own = line.selection_glyph.inherited_line_alpha;
  selected.line_alpha = alpha;
  await frame();
  return own;
}"""


COUNT_INHERITED_JS = """() => {
  // count the attributes defined anew as read from the glyph (BokehJS's _define_inherited(attr, true))
  const proto = Bokeh.require("models/glyphs/glyph").GlyphView.prototype;
  window.__inherited_defined = 0;
  if (!proto.__counting_inherited) {
    const define = proto._define_inherited;
    proto._define_inherited = function (attr, value) {
      if (value === true) window.__inherited_defined += 1;
      return define.call(this, attr, value);
    };
    proto.__counting_inherited = true;
  }
}"""


def test_glyph_views_keep_what_they_inherit_and_read_the_glyphs_values(watched_page, app_url):
    # each of a renderer's four other glyph views defined every attribute it reads from the glyph
    # again at every change of the data: ~2,200 definitions a gmm1d click (kept_glyphs.py)
    page = watched_page
    gmm1d_after_an_em_iteration(page, app_url, "kept-glyphs")
    page.evaluate(COUNT_INHERITED_JS)
    half_steps(page, 3, 6, pause_ms=200)
    result = page.evaluate(KEPT_GLYPHS_JS)
    assert result["views"] >= 60 and result["inherited"] >= 1000, result
    assert result["differ"] == [], result["differ"][:10]
    assert result["kept"] < 40, result          # four half steps: nothing defined again
    # an attribute given a value of its own, then the glyph's again, reads the glyph's again
    assert page.evaluate(FLIP_ALPHA_JS) is False
    result = page.evaluate(KEPT_GLYPHS_JS)
    assert result["differ"] == [], result["differ"][:10]
    assert not page.watch.errors, page.watch.errors


def test_a_closed_cards_widgets_are_built_when_it_opens_and_sent_back_as_references(watched_page, app_url):
    # a closed card's contents are no models of the page until it opens (viewer_tools.ClosedCard);
    # the page then counted the server's new widgets as its own, sent the first clicked back in
    # full and the server warned "reference already known" (known_models.py)
    page = watched_page
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    gmm1d_after_an_em_iteration(page, app_url, "known-models")
    run = page.get_by_role("button", name="Run restarts")
    assert run.count() == 0                                    # no model of the page yet
    page.get_by_text("Restarts (local optima)").click()
    run.wait_for(timeout=10_000)
    assert page.evaluate("() => Bokeh.documents[0]._new_models.size") == 0
    sent.clear()
    run.click()
    page.get_by_text(re.compile(r"20 starts, \d+ distinct fixed point")).first.wait_for(timeout=60_000)
    texts = [frame if isinstance(frame, str) else "" for frame in sent]
    assert any("button_click" in text for text in texts), texts
    assert not any('"type":"object"' in text for text in texts), [t for t in texts if '"type":"object"' in t]
    assert not page.watch.errors, page.watch.errors


PAGE_LAYOUTS_JS = """() => {
  // count the plots that lay the page out again (a side panel asking for another thickness)
  const {PlotView} = Bokeh.require("models/plots/plot_canvas");
  const proto = PlotView.prototype;
  window.__page_layouts = [];
  if (!proto.__counting) {
    const layout_if_needed = proto._invalidate_layout_if_needed;
    proto._invalidate_layout_if_needed = function () {
      const changed = this.model.side_panels.map((panel) => this.renderer_views.get(panel))
        .filter((view) => view != null && view.layout != null && view.layout.has_size_changed());
      if (changed.length > 0) window.__page_layouts.push(`${this.model.title ? this.model.title.text : ""}: ${changed[0].model.type}`);
      return layout_if_needed.call(this);
    };
    proto.__counting = true;
  }
}"""

THICKNESS_JS = "(title) => {" + PLOT_VIEWS + """
  // the left axis's thickness (px) of the plot whose title starts with `title`
  const plot = plot_views().find((view) => view.model.title && view.model.title.text.startsWith(title));
  const axis = [...plot.renderer_views.values()].find((r) => r.panel && r.panel.side === "left" && r.layout);
  return axis.layout.bbox.width;
}"""


def test_new_ticks_do_not_lay_the_page_out_again(watched_page, app_url):
    # gmm2d's identity bar's axis went 55 -> 66 -> 55 px at every click ("-1234.5" against
    # "-1234"), and BokehJS laid the whole page out again each time: 17-26 ms of a click
    # (explorer/app/steady_axes.py)
    page = watched_page
    page.goto(f"{app_url}?model=gmm2d")
    wait_for_app(page)
    half_steps(page, 1, 4)
    assert page.evaluate("() => Bokeh.require('models/axes/axis').AxisView.prototype.__thickest_so_far === true")
    page.evaluate(PAGE_LAYOUTS_JS)
    half_steps(page, 5, 12, pause_ms=150)
    assert page.evaluate("() => window.__page_layouts") == []
    # a panel keeps its widest room only at one text scale: back at 100 % it is as thin as before
    at_100 = page.evaluate(THICKNESS_JS, "log p = F + KL")
    for scale in (200, 100):
        page.evaluate("""([title, value]) => { for (const doc of Bokeh.documents) for (const m of doc.all_models)
                           if (m.title === title && m.value !== undefined) m.value = value; }""",
                      ["Text and plot scale (%)", scale])
        page.wait_for_function(f"(t) => ({THICKNESS_JS})(t) {'>' if scale == 200 else '<='} {at_100}",
                               arg="log p = F + KL", timeout=10_000)
    assert not page.watch.errors, page.watch.errors
