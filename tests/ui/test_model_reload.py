"""The model-debugging loop in the browser: the served model's file is saved with a planted
bug, then a broken save, then the fix, and the open page follows each save without a reload."""
import re
import shutil

import pytest

from .conftest import ROOT, serve, stop

CORRECT_M_STEP = 'new["pi"] = r.mean()'
PLANTED_BUG = 'new["pi"] = 0.9 * r.mean()'       # the M step no longer maximises over π


@pytest.fixture
def served_model_file(tmp_path):
    model_file = tmp_path / "zip_model.py"
    shutil.copy(ROOT / "examples" / "zero_inflated_poisson.py", model_file)
    process, url = serve("--args", "--model", f"{model_file}:ZeroInflatedPoisson")
    yield model_file, url
    stop(process)


def figure_titles(page) -> list[str]:
    """The titles of the Bokeh figures in the page (their text is drawn on a canvas)."""
    return page.evaluate("""() => { const out = [];
        for (const doc of Bokeh.documents) for (const m of doc.all_models)
            if (m.title && m.title.text !== undefined && m.renderers !== undefined) out.push(m.title.text);
        return out; }""")


def readout(page) -> str:
    return page.locator(".status").first.inner_text()


def test_saving_the_model_file_reloads_the_page_model_and_its_checks(served_model_file, watched_page):
    model_file, url = served_model_file
    page = watched_page
    page.goto(url)
    page.get_by_role("button", name="E step", exact=True).wait_for(timeout=60_000)
    page.get_by_text("State 0 of 0").first.wait_for(timeout=30_000)
    for name, state in (("E step", "State 1 of 1"), ("M step", "State 2 of 2")):
        page.get_by_role("button", name=name, exact=True).click()
        page.get_by_text(state).first.wait_for(timeout=30_000)
    source = model_file.read_text()
    assert CORRECT_M_STEP in source

    model_file.write_text(source.replace(CORRECT_M_STEP, PLANTED_BUG))
    page.get_by_text("After the reload FAIL").first.wait_for(timeout=30_000)
    assert "State 2 of 2" in readout(page)           # the same place: the two steps taken again
    page.get_by_text("Some checks fail").first.wait_for(timeout=10_000)       # in the Checks card, opened
    assert any(title.startswith("E_q log p(X, Z | θ) along pi") for title in figure_titles(page))

    model_file.write_text(source.replace("def m_step(", "def m_step(self, q, theta, frozen=frozenset()):\n"
                                                       "        raise RuntimeError('half-way through an edit')\n"
                                                       "\n    def m_step_old("))
    page.get_by_text("The saved model could not be used (the last working version stays)").first.wait_for(
        timeout=30_000)
    page.get_by_text("half-way through an edit").first.wait_for(timeout=10_000)
    assert "State 2 of 2" in readout(page)

    model_file.write_text(source)
    page.get_by_text("After the reload the checks pass").first.wait_for(timeout=30_000)
    assert "State 2 of 2" in readout(page)
    page.get_by_role("button", name="E step", exact=True).click()      # the page still answers
    page.get_by_text("State 3 of 3").first.wait_for(timeout=30_000)
    assert not page.watch.errors


FIXTURE = ROOT / "tests" / "fixtures" / "poisson_mixture.py"
SYNTAX_ERROR = "\n\ndef half_written(:\n"


def shown(page) -> dict:
    """The figures on the page (the Bokeh models reachable from the document's roots: BokehJS
    keeps replaced models in `all_models`): their titles, and the columns of their data sources."""
    return page.evaluate("""() => { const titles = [], sources = [];
        for (const doc of Bokeh.documents) { const all = new Set();
            for (const root of doc.roots()) for (const m of root.references()) all.add(m);
            for (const m of all) {
                if (m.title && m.title.text !== undefined && m.renderers !== undefined) titles.push(m.title.text);
                if (m.data !== undefined && m.selected !== undefined) sources.push(Object.keys(m.data).sort().join(','));
            } }
        return {titles: titles.sort(), sources: sources.sort()}; }""")


def screen(page) -> dict:
    """What a page shows of its model: its figures and the numbers panel's lines of numbers."""
    text = page.locator(".status").first.locator("xpath=..").inner_text()
    return {**shown(page), "numbers": [line for line in text.splitlines()
                                       if line.startswith(("State", "log p", "F(", "KL(", "θ:"))]}


def test_a_broken_file_fixed_then_broken_again_leaves_one_consistent_model(tmp_path, watched_page, browser):
    """Served with a syntax error the page falls back to linkage and says why; the fix brings the
    user's model, and the page then shows what a fresh page of that model shows (no linkage
    plot left, no error in the log); a second break keeps that model on screen."""
    model_file = tmp_path / "poisson_mixture.py"
    source = FIXTURE.read_text()
    model_file.write_text(source + SYNTAX_ERROR)
    process, url = serve("--args", "--model", f"{model_file}:PoissonMixture")
    try:
        page = watched_page
        page.goto(url)
        page.get_by_text("could not be loaded").first.wait_for(timeout=60_000)
        assert "Bound along theta" in shown(page)["titles"]               # linkage, the fallback
        model_file.write_text(source)
        page.get_by_text("After the reload the checks pass").first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        reloaded = screen(page)
        fresh = browser.new_page()
        fresh.goto(url)
        fresh.get_by_role("button", name="E step", exact=True).wait_for(timeout=60_000)
        fresh.get_by_text("State 0 of 0").first.wait_for(timeout=30_000)
        fresh.wait_for_timeout(500)
        assert screen(fresh) == reloaded
        assert "Bound along weights[0]" in reloaded["titles"] and len(reloaded["titles"]) == 5
        assert len(reloaded["numbers"]) >= 4, reloaded
        fresh.close()

        model_file.write_text(source + SYNTAX_ERROR)
        page.get_by_text("The saved model could not be loaded (the last working version stays)").first.wait_for(
            timeout=30_000)
        assert screen(page) == reloaded
        page.get_by_role("button", name="E step", exact=True).click()      # the page still answers
        page.get_by_text("State 1 of 1").first.wait_for(timeout=30_000)
        assert not page.watch.errors
    finally:
        stop(process)
    log = without_closed_socket_writes(open(process.log_path).read())
    assert "unknown parameter" not in log and "Traceback" not in log, log[-3000:]


def without_closed_socket_writes(log: str) -> str:
    """The server's log without Tornado's report of a write to a page closed meanwhile (its own
    write future, "Task exception was never retrieved ... WebSocketClosedError": the test closes
    a page while the server may still be sending to it; not this app's error). CI saw it once."""
    return re.sub(r"Task exception was never retrieved\nfuture: <Task finished name='[^']*' "
                  r"coro=<WebSocketProtocol13\.write_message.*?tornado\.websocket\.WebSocketClosedError\n",
                  "", log, flags=re.S)
