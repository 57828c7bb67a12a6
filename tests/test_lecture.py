"""A teacher's walk through a lecture, without a browser: what each screen sends to the page
(the browser's own walk is tests/ui/test_lecture.py)."""
import numpy as np
from bokeh.document import Document
from bokeh.document.events import ColumnDataChangedEvent, ColumnsStreamedEvent, ModelChangedEvent

from explorer.core.session import Session
from explorer.models import make_model
from explorer.views import TraceView


def rows_the_page_holds(doc, source):
    """The rows of `source` as a page applying the document's messages would hold them."""
    held = {"rows": len(source.data["x"])}

    def seen(event):
        if isinstance(event, ModelChangedEvent) and event.model is source and event.attr == "data":
            held["rows"] = len(event.new["x"])          # sent as the data are when the message goes
        elif isinstance(event, ColumnDataChangedEvent) and event.model is source:
            held["rows"] = len(source.data["x"])
        elif isinstance(event, ColumnsStreamedEvent) and event.model is source:
            held["rows"] += len(event.data["x"])
    doc.on_change(seen)
    return held


def test_a_trace_replaced_then_streamed_in_one_message_holds_each_row_once():
    # a lesson step resets the session (the trace is replaced) and takes its steps (streamed),
    # all in one held message: the page held rows 0…16 and then 1…16 again
    model = make_model("linkage")
    view = TraceView()
    first = Session(model, {"theta": 0.3})
    view.update(first.history, first.position)
    for _ in range(3):
        first.iterate()
    view.update(first.history, first.position)
    doc = Document()
    doc.add_root(view.figure)
    held = rows_the_page_holds(doc, view.source)
    doc.hold("combine")
    second = Session(model, {"theta": 0.5})
    view.update(second.history, second.position)             # replaced: one row
    for _ in range(8):
        second.iterate()
    view.update(second.history, second.position)             # 16 more
    doc.unhold()
    assert held["rows"] == len(second.history) == 17
    assert list(view.source.data["x"]) == list(range(17))
    # outside a hold a step still streams only its new point
    second.iterate()
    sent = []
    doc.on_change(lambda event: sent.append(type(event).__name__))
    view.update(second.history, second.position)
    assert "ColumnsStreamedEvent" in sent and held["rows"] == 19
    np.testing.assert_array_equal(view.source.data["x"], np.arange(19))
