"""A standalone HTML page of a run: one file that opens offline, with no Python and no server,
and a slider through the recorded states that updates every view (data, trace, bound, landscape
with its path, the identity bar and the numbers), for a course page or slides.

The app's own views draw each state, in the zoom window the app would give it (`core.picture`:
the path so far and the M step's target in view); what each state changes in them (data
sources, axis ranges, titles, legend labels, colour bars) is recorded, and the slider's
JavaScript swaps the recorded values in. BokehJS is inlined, so the page needs nothing from any host.
"""
from __future__ import annotations

import copy
import html
import re
from urllib.parse import urlencode

import numpy as np
from bokeh.document import Document
from bokeh.embed import file_html
from bokeh.layouts import column, row
from bokeh.models import (ColorBar, ColumnDataSource, CustomJS, Div, GlyphRenderer, Label,
                          LegendItem, LinearColorMapper, Range1d, Slider, Span, Title)
from bokeh.resources import Resources

from . import text
from .core.model import first_coordinate
from .core.picture import landscape_calculator, picture
from .core.readout import readout
from .views import BoundView, IdentityView, LandscapeView, TraceView, data_view_for

MAX_STATES = 200
RECORDED = {ColumnDataSource: ("data",), Range1d: ("start", "end"), Title: ("text",), Div: ("text",),
            LinearColorMapper: ("low", "high"), Span: ("location",),
            Label: ("text", "x", "y"), LegendItem: ("label",), GlyphRenderer: ("visible",),
            ColorBar: ("title",)}
SIZES = {"data": (430, 330), "bound": (430, 330), "landscape": (460, 330), "trace": (560, 320),
         "identity": (200, 320)}


class BokehOnly(Resources):
    """BokehJS inlined, and nothing that other imported libraries (Panel) register for their own
    models, which this page does not use and which would point at files it cannot reach."""

    def _collect_external_resources(self, resource_attr):
        return []


def chosen_states(session, max_states: int) -> list[int]:
    """The states the slider visits: every state with its q still kept (undo's reach), at most
    `max_states` of them, evenly spread, the first and the current always among them."""
    first, last = session.earliest, session.position
    count = last - first + 1
    if count <= max_states:
        return list(range(first, last + 1))
    step = (count - 1) / (max_states - 1)
    return sorted({first + round(k * step) for k in range(max_states)})


def standalone_html(session, key: str | None = None, grid: int = 30, max_states: int = MAX_STATES,
                    title: str = "EM explorer: a recorded run", progress=None, screen=None) -> str:
    """The page for `session`'s states up to the current one, along coordinate `key`;
    `progress(done, total)` is called after each state is recorded; `screen` (explorer.screen.
    Screen), when known, is written as the link that opens this run in the app. The session is
    not moved (its states are visited on a copy of its position)."""
    session = copy.copy(session)             # the same history; go_to below moves only the copy
    key = key or first_coordinate(session.model, session.frozen)
    family = session.family_object
    calculator = landscape_calculator(session.model, family, grid)
    views = {"data": data_view_for(session.model), "trace": TraceView(), "bound": BoundView(),
             "landscape": LandscapeView(), "identity": IdentityView()}
    numbers = Div(text="", width=520, stylesheets=[NUMBERS_CSS])
    for name, view in views.items():
        view.figure.sizing_mode = "fixed"
        view.figure.width, view.figure.height = SIZES[name]
        view.figure.toolbar_location = None
    states = chosen_states(session, max_states)
    position = session.position
    models = [m for v in views.values() for m in v.figure.references()] + [numbers]
    recorded: dict[tuple[str, str], list] = {}
    targets: dict[str, object] = {}
    window = None          # each state's zoom window, chosen as the app chooses it (it holds the
    for done, index in enumerate(states, 1):         # path so far and the M step's target)
        session.go_to(index)
        drawn = picture(session, key, calculator, zoom=True, previous_window=window)
        window = drawn.window
        s = session
        views["data"].update(s.current)
        views["identity"].update(s.current)
        views["trace"].update(s.history[: position + 1], s.position)
        views["bound"].update(drawn, family.closes_gap, {})
        views["landscape"].update(drawn, {})
        numbers.text = text.readout_block(readout(s), family, s.position, position)
        if index == states[0]:         # a model that appears later would miss states: never drawn from
            models = set(models) | {m for v in views.values() for m in v.figure.references()}
        for model in models:
            for cls, props in RECORDED.items():
                if isinstance(model, cls):
                    targets[model.id] = model
                    for prop in props:
                        recorded.setdefault((model.id, prop), []).append(_copy(getattr(model, prop)))
        if progress is not None:
            progress(done, len(states))
    prints = {where: [_fingerprint(v) for v in values] for where, values in recorded.items()}
    varying = [(mid, prop, values) for (mid, prop), values in recorded.items()
               if len(values) == len(states) and len(set(prints[mid, prop])) > 1]
    swaps, grows = [], []
    for mid, prop, values in varying:
        lengths = prefix_lengths(values)
        if lengths is None:                   # each distinct value once, and which one each state shows
            distinct, which, seen = [], [], {}
            for value, fingerprint in zip(values, prints[mid, prop]):
                if fingerprint not in seen:
                    seen[fingerprint] = len(distinct)
                    distinct.append(value)
                which.append(seen[fingerprint])
            swaps.append((targets[mid], prop, (distinct, which)))
        else:                                 # a path or trace that grows: the last one, cut per state
            grows.append((targets[mid], values[-1], lengths))
    slider = Slider(start=0, end=max(len(states) - 1, 1), value=len(states) - 1, step=1,
                    title=f"State (of {len(states)} recorded; the numbers say which)", width=900,
                    disabled=len(states) == 1)
    slider.js_on_change("value", CustomJS(
        args={"targets": [t for t, _, _ in swaps], "props": [p for _, p, _ in swaps],
              "values": [v[0] for _, _, v in swaps], "which": [v[1] for _, _, v in swaps],
              "growing": [t for t, _, _ in grows],
              "full": [f for _, f, _ in grows], "lengths": [n for _, _, n in grows]},
        code=SWAP))
    heading = Div(text=f"<h2 style='margin:4px 0'>{html.escape(title)}</h2><div>{html.escape(session.model.title)}"
                       f" · family: {html.escape(family.title)} · schedule: "
                       f"{html.escape(session.schedule_object.describe())} · θ_j = {html.escape(key)}</div>"
                       + ("" if screen is None else "<div style='overflow-wrap:anywhere'>In the app: <code>?" + html.escape(
                           urlencode(screen.without_room().query())) + "</code></div>"))
    layout = column(heading, slider, row(views["data"].figure, views["bound"].figure, views["landscape"].figure),
                    row(views["trace"].figure, views["identity"].figure, numbers))
    # The page's own document, and no theme taken from Bokeh's "current document": in the app
    # this runs in a worker thread, where that is some page's document, perhaps one that has
    # ended and been taken apart (AttributeError: ... '_js_event_callbacks').
    Document().add_root(layout)
    page = file_html(layout, resources=BokehOnly(mode="inline"), title=title, theme=None)
    # With Panel loaded (the app's process), Bokeh also lists the script of Panel's own models
    # and, once the server has loaded them, their style sheets, as paths on a server this file
    # does not have; the page uses none of them.
    page = re.sub(r'<script[^>]*src="static/extensions/[^"]*"[^>]*></script>\s*', "", page)
    return re.sub(r'<link[^>]*href="static/extensions/[^"]*"[^>]*>\s*', "", page)


def _copy(value):
    """A recorded value, with its numbers as float32 arrays (a page of 200 states stays small;
    what it draws needs no more than 7 digits)."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return list(value)
    return value


def _compact(column):
    """A column with its numbers as float32 (int32) arrays. Nested lists keep their nesting, and
    only their innermost lists of numbers become arrays: a contour band is a list of polygons
    of rings, and a band made of one plain ring, turned into one 3-d array, was not drawn by
    the page (the top band's white hole)."""
    if isinstance(column, np.ndarray):
        if column.dtype == np.uint8:                        # RGBA colours: already compact
            return column.copy()
        if column.ndim == 3 and column.dtype.kind in "fiu":  # images: a list of 2-d arrays
            return [part.astype(np.float32) for part in column]
        if column.ndim == 2 and column.dtype.kind in "fiu":  # lines: a list of 1-d arrays, as Bokeh takes them
            return [part.astype(np.float32) for part in column]
        return _numbers(column)
    if any(isinstance(part, (list, tuple, np.ndarray)) for part in column):
        return [_nested(part) for part in column]
    return _numbers(column)


def _nested(part):
    """A part of a nested column: a list recursed into, an array kept in its shape (an image)."""
    if isinstance(part, np.ndarray):
        return _numbers(part)
    if isinstance(part, (list, tuple)):
        if any(isinstance(p, (list, tuple, np.ndarray)) for p in part):
            return [_nested(p) for p in part]
        return _numbers(part)
    return part


def _numbers(values):
    """Numbers as a float32 or int32 array of the same shape; anything else as it is."""
    array = np.asarray(values)
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    if array.dtype.kind in "iu" and array.size and array.dtype != np.uint8:
        return array.astype(np.int32)
    if array.dtype == np.uint8:
        return array.copy()
    return list(values) if not isinstance(values, np.ndarray) else values.copy()


def prefix_lengths(values) -> list[int] | None:
    """For a data source recorded per state: the length of each state's data if every one is
    a prefix of the last (a growing path or trace), else None."""
    if not all(isinstance(v, dict) for v in values):
        return None
    last = values[-1]
    lengths = []
    for value in values:
        if value.keys() != last.keys():
            return None
        sizes = {len(values) for values in value.values()}
        if len(sizes) != 1:
            return None
        n = sizes.pop()
        for name, values in value.items():
            if n > len(last[name]) or _differs(list(values), list(last[name][:n])):
                return None
        lengths.append(n)
    return lengths


def _fingerprint(value):
    """A hashable stand-in for a recorded value: equal exactly when the values are (arrays by
    dtype, shape and bytes)."""
    if isinstance(value, dict):
        return tuple((k, _fingerprint(v)) for k, v in value.items())
    if isinstance(value, np.ndarray) and value.dtype != object:
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple, np.ndarray)):
        return ("seq", tuple(_fingerprint(v) for v in value))
    return (type(value).__name__, repr(value))


def _differs(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return True
        return any(_differs(a[k], b[k]) for k in a)
    try:
        return not np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
    except Exception:  # noqa: BLE001 - values that cannot be compared count as different
        return True


SWAP = """
const i = cb_obj.value;
for (let k = 0; k < growing.length; k++) {
  const source = full[k] instanceof Map ? Object.fromEntries(full[k]) : full[k];
  const data = {};
  for (const name in source) data[name] = source[name].slice(0, lengths[k][i]);
  growing[k].data = data;
}
for (let k = 0; k < targets.length; k++) {
  const value = values[k][which[k][i]];
  if (props[k] === "data") {
    targets[k].data = value instanceof Map ? Object.fromEntries(value) : value;
  } else {
    targets[k][props[k]] = value;
  }
}
"""

NUMBERS_CSS = """
:host { font-size: 13px; line-height: 1.35; }
table.numbers { border-collapse: collapse; margin: 3px 0; }
table.numbers td, table.numbers th { padding: 1px 8px; border-bottom: 1px solid rgba(128,128,128,.3); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.formula { font-family: 'DejaVu Serif', Georgia, serif; margin: 3px 0; }
.warning { color: #b00020; }
"""
