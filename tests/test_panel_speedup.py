"""Panel without its unused design work sends the page the same properties."""
import panel as pn
import param
from bokeh.document import Document
from panel.io.state import set_curdoc

from explorer.app import App
from explorer.app.address import AddressWriter
from explorer.app.panel_speedup import QuickButton, _panel_update_properties, _update_properties


def changes(component, **values):
    return [param.parameterized.Event(what="value", name=k, obj=component, cls=type(component), old=None,
                                      new=v, type="changed") for k, v in values.items()]


def test_the_same_properties_reach_the_page():
    app = App("gmm1d")
    doc = Document()
    app.template().server_doc(doc)
    cases = [(app.steps.timeline, dict(value=3, end=4)),
             (app.plots.panes["data"], dict(visible=False)),
             (pn.pane.HTML("<b>x</b>", stylesheets=[":host { color: red; }"]), dict(object="<i>y</i>")),
             (AddressWriter(), dict(search="?model=gmm1d")),
             (app.steps.buttons["E step"], dict(disabled=True, stylesheets=[":host { color: blue; }"]))]
    with set_curdoc(doc):
        for component, values in cases:
            component.get_root(doc)
            events = changes(component, **values)
            assert _update_properties(component, *events, doc=doc) == _panel_update_properties(component, *events,
                                                                                                 doc=doc)


def test_the_numbers_panel_sends_the_text_an_html_pane_would():
    from explorer.app.panel_speedup import TextOnlyHTML
    doc = Document()
    text = "<div class='status'>State 1 of 1 &amp; <b>θ</b></div><script>x</script>"
    ours, theirs = TextOnlyHTML("", stylesheets=[":host { color: red; }"]), pn.pane.HTML("")
    with set_curdoc(doc):
        ours_model, theirs_model = ours.get_root(doc), theirs.get_root(doc)
        ours.object = theirs.object = text
    assert ours_model.text == theirs_model.text == theirs._get_properties(doc)["text"]
    assert "State 1 of 1" in ours_model.text and ours_model.stylesheets[-1] == ":host { color: red; }"


def test_a_quick_button_click_from_the_page_runs_its_callbacks_once(monkeypatch):
    from bokeh.events import ButtonClick
    from panel.io.state import state

    from explorer.app.panel_speedup import QuickButton
    doc = Document()
    button, seen = QuickButton(label="E step"), []
    button.on_click(lambda event: seen.append(event.new))
    with set_curdoc(doc):
        model = button.get_root(doc)
    busy, values = [], []
    button.param.watch(lambda event: values.append(event.new), "value")
    monkeypatch.setattr(state, "_add_busy_event", lambda event_id: busy.append(event_id))
    button._process_bokeh_event(doc, ButtonClick(model))
    button._process_bokeh_event(doc, ButtonClick(model))
    assert seen == [1, 2] and button.clicks == 2
    assert busy == [] and values == []          # Panel's Button counts both in the busy counter
    pn.widgets.Button._process_bokeh_event(button, doc, ButtonClick(model))
    assert busy and values                      # (so the checks above can fail)


def test_the_app_steps_through_its_quick_buttons():
    app = App("linkage")
    app.steps.buttons["E step"].clicks += 1
    app.steps.buttons["M step"].clicks += 1
    assert [s.kind for s in app.session.history[1:]] == ["E", "M"]
    assert all(isinstance(b, QuickButton) for b in app.steps.buttons.values())


def test_no_figure_keeps_glyphs_for_selection_or_muting():
    from bokeh.models import GlyphRenderer
    app = App("gmm1d")
    renderers = [m for view in app.views.values() for m in view.figure.references() if isinstance(m, GlyphRenderer)]
    assert len(renderers) > 20
    assert all(r.nonselection_glyph is None and r.muted_glyph is None for r in renderers)


def test_a_figures_renderers_share_its_one_filter_and_one_selection_policy():
    # both have no state: one of each a figure, not one a renderer (40 fewer models a page)
    from bokeh.models import AllIndices, GlyphRenderer, UnionRenderers
    app = App("gmm1d")
    for view in app.views.values():
        models = list(view.figure.references())
        renderers = [m for m in models if isinstance(m, GlyphRenderer)]
        assert all(type(r.view.filter) is AllIndices for r in renderers)      # every point drawn
        assert sum(isinstance(m, AllIndices) for m in models) == 1
        assert sum(isinstance(m, UnionRenderers) for m in models) == 1
    assert sum(len(view.figure.renderers) for view in app.views.values()) > 20


def test_a_closed_card_takes_its_contents_when_first_opened_and_selects_them_before():
    # its contents are no models of the page until it opens (a tenth of a page open's work);
    # the sidebar sizes its widgets through `select` before any card is opened
    from explorer.app.viewer_tools import ClosedCard
    button, report = pn.widgets.Button(label="Run the checks"), pn.pane.HTML("report")
    card = ClosedCard("Checks", button, report)
    assert card.collapsed and len(card.objects) == 0
    assert card.select(pn.widgets.Button) == [button]
    card.collapsed = False
    assert list(card.objects) == [button, report] and card.select(pn.widgets.Button) == [button]
    card.collapsed = True
    card.collapsed = False
    assert list(card.objects) == [button, report]
    app = App("gmm1d")
    checks = app.controls.checks_card
    assert checks.collapsed and app.controls.check in checks.select(pn.widgets.Button)
    from bokeh.models import Button
    labels = [m.label for m in app.controls.__panel__().get_root().select({"type": Button})]
    assert "Run restarts" not in labels and "Run the checks" not in labels and labels    # the open cards' are there




def test_the_apps_figures_hold_no_customjs_and_a_figure_pane_makes_panels_model():
    # FigurePane skips Panel's walk over a figure's models for CustomJS code to rename: right
    # only while no figure of the app holds a CustomJS
    from bokeh.models import CustomJS
    from explorer.app.panel_speedup import FigurePane
    from explorer.models import MODELS
    for name in MODELS:
        app = App(name)
        app.state.e_step()
        app.state.m_step()
        for view in app.views.values():
            assert view.figure.select({"type": CustomJS}) == [], (name, view)
    app = App("gmm1d")
    figure = app.views["trace"].figure
    ours, panels = FigurePane(figure), pn.pane.Bokeh(figure)
    for pane in (ours, panels):
        doc = Document()
        with set_curdoc(doc):
            root = pn.Column(pane).get_root(doc)
            doc.add_root(root)                     # from the other pane's document too
            assert root.children[0] is figure and figure.document is doc
            assert pane._models[root.ref["id"]] == (figure, root)
