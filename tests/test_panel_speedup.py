"""Panel without its unused design work sends the page the same properties."""
import panel as pn
import param
from bokeh.document import Document
from panel.io.state import set_curdoc

from explorer.app import App
from explorer.app.address import AddressWriter
from explorer.app.panel_speedup import _panel_update_properties, _update_properties


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
