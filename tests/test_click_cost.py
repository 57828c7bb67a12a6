"""What a click sends the page: only what changed, and no more after 300 steps than after 10."""
import json

import numpy as np
import pytest
from bokeh.document import Document
from bokeh.models import ColumnDataSource
from bokeh.protocol import Protocol

from explorer.app import App
from explorer.core.picture import PathMemo, path_points, place_on_landscape, picture
from explorer.core.session import Session
from explorer.core.landscape import LandscapeCalculator
from explorer.core.families import get_family
from explorer.models import make_model
from explorer.views.base import set_columns, sync_rows


def served(app):
    doc = Document()
    app.template().server_doc(doc)
    events = []
    doc.on_change(events.append)
    return events


def sent_bytes(events) -> int:
    message = Protocol().create("PATCH-DOC", events)
    return len(message.content_json) + sum(len(b.to_bytes()) for b in message.buffers)


@pytest.mark.parametrize("model", ["linkage", "gmm1d"])
def test_a_step_sends_as_much_after_300_steps_as_after_10(model):
    app = App(model)
    events = served(app)
    sizes = {}
    for i in range(302):
        events.clear()
        (app.state.e_step if i % 2 == 0 else app.state.m_step)()
        if i in (10, 11, 300, 301):
            sizes[i] = sent_bytes(events)
    assert sizes[300] <= 1.1 * sizes[10] + 200
    assert sizes[301] <= 1.1 * sizes[11] + 200


def an_e_step_after_an_m_step(model="gmm1d"):
    """The app and the document's changes of an E step (θ unchanged) after an M step."""
    app = App(model)
    events = served(app)
    app.state.e_step()
    app.state.m_step()
    events.clear()
    app.state.e_step()
    return app, events


def test_an_e_step_does_not_send_the_component_densities_again():
    app, events = an_e_step_after_an_m_step()     # only q's colours move in the data view
    data_view = app.views["data"]
    touched = {id(getattr(e, "model", None)) for e in events}
    assert id(data_view.points) in touched
    assert id(data_view.components) not in touched and id(data_view.mixture) not in touched


def test_sync_rows_streams_patches_or_replaces():
    source = ColumnDataSource(dict(x=np.array([1.0, 2.0]), label=["a", "b"]))
    doc = Document()
    doc.add_root(source)
    events = []
    doc.on_change(events.append)
    sync_rows(source, dict(x=np.array([1.0, 2.0, 3.0]), label=["a", "b", "c"]))
    assert [type(e).__name__ for e in events] == ["ColumnsStreamedEvent"]
    events.clear()
    sync_rows(source, dict(x=np.array([1.5, 2.0, 3.0, 4.0]), label=["a", "b", "c", "d"]))
    assert [type(e).__name__ for e in events] == ["ColumnsPatchedEvent", "ColumnsStreamedEvent"]
    assert list(source.data["x"]) == [1.5, 2.0, 3.0, 4.0] and list(source.data["label"]) == ["a", "b", "c", "d"]
    events.clear()
    sync_rows(source, dict(x=np.array([9.0]), label=["z"]))          # cut (an undo): all of it
    assert [type(e).__name__ for e in events] == ["ColumnDataChangedEvent"]
    assert list(source.data["x"]) == [9.0]
    events.clear()
    sync_rows(source, dict(x=np.array([9.0]), label=["z"]))          # nothing changed: nothing sent
    assert events == []


def test_set_columns_sends_the_changed_columns_only():
    source = ColumnDataSource(dict(t=[1.0, 2.0], F=[3.0, np.nan], label=["a", "b"]))
    doc = Document()
    doc.add_root(source)
    events = []
    doc.on_change(events.append)
    set_columns(source, dict(t=np.array([1.0, 2.0]), F=np.array([3.0, np.nan]), label=["a", "b"]))
    assert events == []                                                  # NaN equals NaN here
    set_columns(source, dict(t=np.array([1.0, 2.0]), F=np.array([4.0, np.nan]), label=["a", "b"]))
    assert [e.cols for e in events] == [["F"]] and list(source.data["F"])[0] == 4.0
    events.clear()
    set_columns(source, dict(t=[5.0], F=[6.0], label=["c"]))            # another length: all of it
    assert [type(e).__name__ for e in events] == ["ColumnDataChangedEvent"] and events[0].cols is None
    assert source.data == dict(t=[5.0], F=[6.0], label=["c"])


def test_an_e_step_sends_the_bound_its_f_curve_only():
    app, events = an_e_step_after_an_m_step()     # the grid, log p and best F stay
    bound = app.views["bound"].source
    assert [e.cols for e in events if getattr(e, "model", None) is bound] == [["F"]]


def test_an_m_step_that_moves_the_landscape_s_colours_sends_its_colour_bar_only_the_range():
    # The bar's ticks were sent with each new colour range (a FixedTicker at low, middle, high),
    # and a changed ticker makes BokehJS lay the whole landscape plot out again: 30-37 ms of an
    # M step's click (benchmarks/click_parts.py). The page works the ticks out from the range.
    app, events = an_e_step_after_an_m_step()
    view = app.views["landscape"]
    before = (view.mapper.low, view.mapper.high)
    events.clear()
    app.state.m_step()
    assert (view.mapper.low, view.mapper.high) != before          # the colours did move
    touched = {id(e.model) for e in events if getattr(e, "model", None) is not None}
    assert id(view.mapper) in touched
    bar = {id(m) for m in view.colorbar.references()} - {id(view.mapper)}
    assert not bar & touched


@pytest.mark.parametrize("schedule", ["em", "incremental:60"])
def test_the_kept_path_equals_the_path_drawn_afresh(schedule):
    """Steps, undo, redo and a jump back: the path kept between pictures is the fresh one."""
    model = make_model("gmm1d")
    session = Session(model, None, schedule=schedule)
    calculator = LandscapeCalculator(model, get_family("exact"), 20)
    memo = PathMemo()
    rng = np.random.default_rng(3)
    for i in range(40):
        action = rng.choice(["e", "m", "iter", "undo", "redo", "back"], p=[.3, .3, .2, .1, .05, .05])
        if action == "e":
            session.e_step()
        elif action == "m":
            session.m_step()
        elif action == "iter":
            session.iterate()
        elif action == "undo" and session.can_undo:
            session.undo()
        elif action == "redo" and session.can_redo:
            session.redo()
        elif action == "back":
            session.go_to(max(session.earliest, session.position - 3))
        kept = picture(session, "means[0]", calculator, memo=memo)
        fresh = picture(session, "means[0]", calculator)
        assert kept.path == fresh.path
    raw = path_points(session.states, "means[0]")
    assert place_on_landscape(raw, session.states, fresh.landscape) == fresh.path


def test_numbers_reach_the_page_as_bokeh_would_send_them():
    """The landscape's bands go out as they are (`Numbers`), in the same JSON as Bokeh's own
    encoding of the same lists; with a NaN in them they keep Bokeh's encoding."""
    from explorer.views.base import Numbers, as_lists
    polygons = [[[np.array([0.5, 1.25, 2.0]), np.array([3.0, 4.0])]], [[np.array([-1.0, 7.5, 1e-3])]]]

    def message(value):
        source = ColumnDataSource(dict(xs=value, level=[1.0, 2.0]))
        doc = Document()
        doc.add_root(source)
        events = []
        doc.on_change(events.append)
        source.data = dict(xs=value, level=[1.5, 2.5])
        return json.loads(Protocol().create("PATCH-DOC", events).content_json)["events"][0]["data"]

    fast = as_lists(polygons)
    assert isinstance(fast, Numbers)
    assert message(fast) == message([[[list(map(float, ring)) for ring in p] for p in band] for band in polygons])
    with_nan = as_lists([[[np.array([0.0, np.nan])]]])
    assert not isinstance(with_nan, Numbers)
    assert '"nan"' in json.dumps(message(with_nan + [[[[1.0]]]]))


def test_factor_analysis_steps_send_each_ellipse_when_it_moves_and_inline():
    """The latent view's ellipses: an E step (θ unchanged) sends q's only, an M step (q
    unchanged) the posterior's only, and no step sends a binary buffer (each curve's x and y
    were two frames of their own, 8 a click); the page gets the ellipses of the state."""
    from explorer.views.base import ellipse
    app, events = an_e_step_after_an_m_step("factor-analysis")
    view = app.views["data"]
    touched = {id(getattr(e, "model", None)) for e in events}
    assert id(view.sources["q"]) in touched and id(view.sources["posterior"]) not in touched
    assert Protocol().create("PATCH-DOC", events).buffers == []
    events.clear()
    app.state.m_step()
    touched = {id(getattr(e, "model", None)) for e in events}
    assert id(view.sources["posterior"]) in touched and id(view.sources["q"]) not in touched
    assert Protocol().create("PATCH-DOC", events).buffers == []
    state = app.state.session.current
    for name, q in (("posterior", app.state.model.posterior(state.theta)), ("q", state.q)):
        mean, cov = q.mean[view.point, :2], q.cov[:2, :2]
        drawn = view.sources[name].data
        for r, xs, ys in zip((1, 2), drawn["xs"], drawn["ys"]):
            np.testing.assert_array_equal(np.array([xs, ys]), ellipse(mean, cov, r))
