"""Drive the served app in Chromium: for each model, step E and M, check the numbers move,
every plot's data sources are filled, no console error and no traceback; save a screenshot."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

MODELS = ["linkage", "coins", "gmm1d", "gmm2d"]

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


def numbers_text(page) -> str:
    return page.locator("table").first.inner_text()


def click(page, name, expect_state):
    page.get_by_role("button", name=name, exact=True).click()
    page.get_by_text(re.compile(rf"State {expect_state} of")).first.wait_for(timeout=20_000)


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
    assert page.get_by_text(re.compile(r"^M step: θ ← argmax F\(θ, q\)")).count() == 1
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
    page.locator("select").first.select_option("coins")
    expect(page.locator("select").nth(1)).to_have_value("do-batzoglou", timeout=20_000)
    click(page, "EM iteration", 2)
    click(page, "Undo", 1)
    expect(page.get_by_text(re.compile(r"\(after an E step; family")).first).to_be_visible()
    click(page, "Redo", 2)
    click(page, "Run to convergence", r"\d+")
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
    page.locator("select").nth(2).select_option("mean-field")
    page.get_by_role("button", name="Compare with exact EM", exact=True).wait_for(timeout=20_000)
    click(page, "E step", 1)
    page.get_by_text(re.compile("KL stays at")).first.wait_for(timeout=20_000)
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
    expect(page.locator("select").first).to_have_value("zip", timeout=20_000)
    expect(page.locator("select").nth(1)).to_have_value("counts")
    click(page, "E step", 1)
    click(page, "M step", 2)
    lengths = page.evaluate(SOURCES_JS)
    assert lengths and not [s for s, n in lengths if n == 0]
    page.screenshot(path=str(Path(output_path) / "custom-zip.png"))
    assert not page.watch.errors, page.watch.errors


def test_the_url_cannot_load_code(watched_page, app_url):
    """Models come from the server's command line or Python only: a model spec in the URL is
    not a model name, so the app keeps its default model and lists no such model."""
    page = watched_page
    page.goto(f"{app_url}?model=examples/buggy_gmm.py:BuggyGMM")
    wait_for_app(page)
    select = page.locator("select").first
    expect(select).to_have_value("gmm1d", timeout=20_000)
    options = select.locator("option").all_inner_texts()
    assert not any("buggy" in option.lower() for option in options)
