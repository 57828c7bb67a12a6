"""Values from outside (a link, a user's model, a lesson file) reach the page as text."""
import html

from explorer.app.as_text import TextMultiChoice, formula_html
from explorer.app.state import ExplorerState

PAYLOAD = "<img src=x onerror=alert(1)>"


def test_a_multi_choice_sends_its_options_labels_escaped():
    """Bokeh's MultiChoice writes an option's label as HTML: the label sent is escaped, the
    value (what comes back when it is chosen) is the option itself."""
    widget = TextMultiChoice(options=["means", PAYLOAD, "a & b"], value=[PAYLOAD])
    model = widget.get_root()
    assert list(model.options) == [("means", "means"), (PAYLOAD, html.escape(PAYLOAD)), ("a & b", "a &amp; b")]
    assert list(model.value) == [PAYLOAD]
    model.value = [PAYLOAD, "a & b"]              # chosen in the page: the options' values come back
    widget._process_events({"value": [PAYLOAD, "a & b"]})
    assert widget.value == [PAYLOAD, "a & b"]     # the options themselves, not their escaped labels


def test_a_url_value_never_becomes_a_choice():
    """`?frozen=<img …>` was added to the frozen parameters' choices (and ran in the page)."""
    state = ExplorerState(query={"model": "gmm1d", "frozen": PAYLOAD, "coord": PAYLOAD})
    assert PAYLOAD not in state.param.frozen.objects and PAYLOAD not in state.param.coordinate.objects
    assert state.frozen == [] and state.coordinate in state.param.coordinate.objects
    assert [n.split(" (ignored)")[0] for n in state.notes] == [f"frozen={PAYLOAD!r}", f"coord={PAYLOAD!r}"]


def test_a_lessons_formula_keeps_its_notation_and_nothing_else():
    assert formula_html("KL<sub>q</sub> x<sup>2</sup> <i>θ</i>") == "KL<sub>q</sub> x<sup>2</sup> <i>θ</i>"
    assert formula_html(PAYLOAD + "<sub onclick=alert(2)>") == html.escape(PAYLOAD + "<sub onclick=alert(2)>")
    assert formula_html("a < b & c") == "a &lt; b &amp; c"
