"""A figure saved with `explorer.plots.save_html` opens with no network: every request to
another host is refused, and Bokeh still draws it."""
import explorer
from explorer import plots


def test_a_saved_figure_draws_with_no_network(tmp_path, page):
    session = explorer.Session(explorer.make_model("linkage"), {"theta": 0.5})
    for _ in range(3):
        session.iterate()
    path = tmp_path / "em.html"
    plots.save_html(plots.trace(session) + plots.bound(session, "theta"), path)
    refused, errors = [], []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:", "blob:"))
               else (refused.append(route.request.url), route.abort()))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.index && "
                           "Object.keys(Bokeh.index).length > 0", timeout=30_000)
    titles = page.evaluate("""() => { const out = [];
        for (const doc of Bokeh.documents) for (const root of doc.roots()) for (const m of root.references())
            if (m.title && m.title.text !== undefined && m.renderers !== undefined) out.push(m.title.text);
        return out.sort(); }""")
    assert titles == ["Bound along theta", "Trace: log p, F and KL"]
    assert not errors
    assert not [url for url in refused if url.endswith(".js")], refused     # no script was wanted from elsewhere
