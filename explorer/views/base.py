"""What the views share: the palette, a figure with the house style, responsibility colours."""
from __future__ import annotations

import numpy as np
from bokeh.core.serialization import Serializer
from bokeh.models import NoOverlap, Range1d
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from ..core.readout import ROUNDING, kl_shown, rounding  # noqa: F401 - the views' names for them
from ..shown import fmt  # noqa: F401 - the one way a number is written (explorer.shown)

PALETTE = list(Category10_10)
LOGP_COLOR, F_COLOR, KL_COLOR, BEST_COLOR = "#9467bd", "#1f77b4", "#d62728", "#2ca02c"  # readable on light and dark
OVERLAY_COLORS = ["#8c564b", "#17becf", "#e377c2", "#bcbd22"]   # other runs (compared schedules)


# Font sizes in px at 100 %; `scale_fonts` multiplies them (the projector's text scale).
FONTS = {"title": 14, "label": 13, "tick": 12, "legend": 12, "subtitle": 12}
TICK_GAP = 6          # px at least between two tick labels on one axis


def new_figure(title: str, x_label: str, y_label: str, **kwargs):
    """A figure in the house style; pass manual=True for Range1d axes that `update` sets. It
    stretches to its container both ways: the layout decides how big a plot is."""
    if kwargs.pop("manual", False):
        kwargs.setdefault("x_range", Range1d(0, 1))
        kwargs.setdefault("y_range", Range1d(0, 1))
    kwargs.pop("height", None)
    kwargs.setdefault("min_width", 200)
    fig = figure(title=title, x_axis_label=x_label, y_axis_label=y_label, sizing_mode="stretch_both",
                 min_height=200, toolbar_location="right",
                 tools="pan,wheel_zoom,box_zoom,reset,save,fullscreen", **kwargs)
    fig.toolbar.logo = None
    fig.toolbar.autohide = True
    fig.output_backend = "canvas"
    # A label that would come within TICK_GAP px of the one before it is not drawn (every other
    # label goes where a narrow plot or a long number leaves no room): "0.0220.0240.026" read as
    # one number. One policy per figure: a model belongs to one document.
    apart = NoOverlap(min_distance=TICK_GAP)
    for axis in (fig.xaxis, fig.yaxis):
        axis.axis_label_standoff = 4
        axis.major_label_policy = apart
        if hasattr(axis[0].ticker, "desired_num_ticks"):
            axis[0].ticker.desired_num_ticks = 5
    fig.min_border_left = 8
    fig.min_border_right = 12
    scale_fonts(fig, 100)
    return fig


def drop_unused_glyphs(fig) -> None:
    """Bokeh's `figure` gives every renderer two more glyphs, for unselected and for muted
    points. No view selects or mutes (legends hide), so they were only more models: about 60 of
    a page's 520, and the server walks every model at each page open and each click.
    Each renderer's view also has a filter of its own (all indices), and each source a
    selection policy (union), both without state: one of each serves the whole figure (40 of
    a page's 490 models fewer to send, walk and style at each page open)."""
    from bokeh.models import AllIndices, ContourRenderer, GlyphRenderer, UnionRenderers
    every_index, union = AllIndices(), UnionRenderers()
    for renderer in fig.renderers:
        parts = ([renderer.fill_renderer, renderer.line_renderer] if isinstance(renderer, ContourRenderer)
                 else [renderer])
        for part in parts:
            if hasattr(part, "nonselection_glyph"):
                part.nonselection_glyph = None
                part.muted_glyph = None
            if isinstance(part, GlyphRenderer):
                if type(part.view.filter) is AllIndices:
                    part.view.filter = every_index
                if type(part.data_source.selection_policy) is UnionRenderers:
                    part.data_source.selection_policy = union


def scale_fonts(fig, percent: int):
    """Every text of a figure at `percent` of the house sizes (titles, axes, legends, labels)."""
    from bokeh.models import ColorBar, Label, LabelSet, Legend, Title

    def px(name):
        return f"{round(FONTS[name] * percent / 100)}px"

    set_size(fig.title, "text_font_size", px("title"))
    for axis in fig.axis:
        set_size(axis, "axis_label_text_font_size", px("label"))
        set_size(axis, "major_label_text_font_size", px("tick"))
    for item in fig.center + fig.below + fig.above + fig.right + fig.left:
        if isinstance(item, Legend):
            size_legend(item, percent)
        elif isinstance(item, ColorBar):
            set_size(item, "major_label_text_font_size", px("tick"))
            set_size(item, "title_text_font_size", px("tick"))
        elif isinstance(item, Title) and item is not fig.title:
            set_size(item, "text_font_size", px("subtitle"))
        elif isinstance(item, (Label, LabelSet)):     # e.g. the identity bar's "KL = …" and the basins
            set_size(item, "text_font_size", px("label"))       # map's numbers, which stayed small at 200 %


def set_size(model, name: str, value: str):
    """model.name = value, held as set even where value is Bokeh's default. Bokeh ignores a
    value equal to the current one and leaves the property unset, and the page's theme (Panel's
    design) replaces an unset one: the axis labels' 13 px, Bokeh's default, were drawn at the
    theme's 1.25em (16 px) until the scale was moved away and back, which cut regression-mixture's
    landscape label at 1366×768. (The set values are Bokeh's `_property_values`: asking
    `properties_with_values` walked every property, a sixth of a page's figure building.)"""
    if name not in model._property_values:
        setattr(model, name, "0px")
    setattr(model, name, value)


def add_subtitle(fig, text: str = ""):
    """A second, smaller title line under the title (for numbers that change with each step)."""
    from bokeh.models import Title
    subtitle = Title(text=text, text_font_size=f"{FONTS['subtitle']}px", text_font_style="normal")
    fig.add_layout(subtitle, "above")
    return subtitle


def style_legend(fig, location="below", columns: int | None = 3, spacing: int = 1):
    """A legend outside the plot area (below it, in columns), so it never covers the current
    point or the curves; `location` inside the plot only for views with room to spare; `spacing`:
    px between items at 100 % (kept in the legend's tags, so that `scale_fonts` scales it)."""
    legend = fig.legend[0]
    legend.tags = [{"spacing": spacing}]
    if location in ("below", "right", "above"):
        fig.center.remove(legend)
        fig.add_layout(legend, location)
        legend.orientation = "horizontal" if location != "right" else "vertical"
        if columns and location != "right":
            legend.ncols = columns
    else:
        legend.location = location
    size_legend(legend, 100)
    legend.glyph_width = 18
    legend.label_standoff = 3
    legend.background_fill_alpha = 0.7
    legend.border_line_alpha = 0.0
    legend.padding = 1
    legend.margin = 2
    legend.click_policy = "hide"
    return legend


def size_legend(legend, percent: int):
    """A legend's text, swatches and the room between its items (its `style_legend` spacing) at
    `percent` of the house sizes."""
    def scaled(v):
        return max(1, round(v * percent / 100))
    set_size(legend, "label_text_font_size", f"{scaled(FONTS['legend'])}px")
    legend.label_height = legend.glyph_height = scaled(FONTS["legend"])
    legend.spacing = scaled(next((t["spacing"] for t in legend.tags if isinstance(t, dict) and "spacing" in t), 1))


def blend(q: np.ndarray) -> np.ndarray:
    """(n, 4) RGBA bytes mixing the component colours by responsibility: q is (K, n). Bytes, not
    hex strings: Bokeh sends them as one binary buffer. Past the palette's colours (K = 11, 12)
    they repeat, as the components' own curves and legends do."""
    colors_k = [PALETTE[k % len(PALETTE)] for k in range(q.shape[0])]
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colors_k], float)
    colors = np.full((q.shape[1], 4), 255, np.uint8)
    colors[:, :3] = np.clip(np.rint(q.T @ rgb), 0, 255)
    return colors


def grey(n: int) -> np.ndarray:
    """(n, 4) RGBA bytes of the points' colour before q colours them."""
    return np.tile(np.array([136, 136, 136, 255], np.uint8), (n, 1))


SMALL = 64     # arrays up to this long go inline in the JSON message, larger ones as binary buffers


def data_replaced_in_hold(source) -> bool:
    """True when `source.data` was replaced inside a document hold that has not been sent yet.
    Streaming then would double the rows: the held replacement sends the data as they are when
    the hold ends, which already include the streamed rows, and the stream adds them again."""
    doc = source.document
    if doc is None or doc.callbacks.hold_value is None:
        return False
    from bokeh.document.events import ColumnDataChangedEvent, ModelChangedEvent
    return any(isinstance(event, (ColumnDataChangedEvent, ModelChangedEvent)) and event.model is source
               and event.attr == "data" for event in doc.callbacks._held_events)


def inline(value):
    """`value` with its small arrays (and arrays nested in lists) as lists. Bokeh sends each
    array as a binary buffer of its own, two websocket frames each: for the few numbers a step
    adds, that costs more than the numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= SMALL and value.dtype.kind in "fiub" else value
    if isinstance(value, dict):
        return {k: inline(v) for k, v in value.items()}
    if isinstance(value, list):
        return [inline(v) for v in value]
    return value


class Numbers(list):
    """Nested lists of finite floats, sent to the page as they are. Bokeh's serializer would
    encode each number on its own: 6 ms of a server's time for the ~3,000 coordinates of a
    landscape's bands, most of what an M step sends."""


Serializer.register(Numbers, lambda numbers, serializer: numbers)


def as_lists(value, decimals: int | None = None) -> list:
    """Every array in `value` (nested lists of arrays) as a list, whatever its size, rounded to
    `decimals` places if given (coordinates on screen need no 17 digits); `Numbers` when all
    are finite (a NaN needs Bokeh's own encoding)."""
    lists = _as_lists(value, decimals)
    return Numbers(lists) if _all_finite(value) else lists


def _as_lists(value, decimals):
    if isinstance(value, np.ndarray):
        return (value if decimals is None else np.round(value, decimals)).tolist()
    if isinstance(value, list):
        return [_as_lists(v, decimals) for v in value]
    return value


def _all_finite(value) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "fiu" and bool(np.isfinite(value).all())
    if isinstance(value, list):
        return all(_all_finite(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def screen_decimals(lo: float, hi: float, digits: int = 5) -> int:
    """Decimal places that keep `digits` significant digits of a span [lo, hi]."""
    span = abs(hi - lo) or max(abs(hi), 1.0)
    return max(0, digits - int(np.floor(np.log10(span))))


def set_columns(source, columns: dict) -> None:
    """Make `source` hold `columns` (flat, equal-length), sending the page only the columns that
    changed, and nothing when none did. A new `data` would send every column: on an E step the
    bound's grid, log p and best F stay put and only F moves; an empty fixed-points source
    stays empty."""
    old = source.data
    if set(old) != set(columns) or any(len(old[name]) != len(values) for name, values in columns.items()):
        source.data = inline(columns)
        return
    changed = {name: values for name, values in columns.items() if not _same_column(old[name], values)}
    if changed:
        source.data.update(inline(changed))


def _same_column(old, new) -> bool:
    try:
        a, b = np.asarray(old, dtype=float), np.asarray(new, dtype=float)
    except (TypeError, ValueError):                  # labels and colours
        return [str(v) for v in old] == [str(v) for v in new]
    return a.shape == b.shape and bool(np.all(_equal_entries(a, b)))


def _equal_entries(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Entry by entry: equal numbers, or both NaN (a NaN on the page stays unchanged)."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def sync_rows(source, columns: dict) -> None:
    """Make `source` hold `columns` (equal-length arrays), sending the page only what changed:
    the new rows as a stream and the changed rows as a patch; everything only when the rows
    were cut (an undo) or the columns are new. So a path or trace that grows by a row costs a
    row, not the whole history."""
    old = source.data
    n_old = len(next(iter(old.values()), ()))
    n_new = len(next(iter(columns.values()), ()))
    if set(old) != set(columns) or n_new < n_old:
        source.data = inline(columns)
        return
    patches = {}
    for name, values in columns.items():
        before, now = np.asarray(old[name]), np.asarray(values[:n_old])
        if before.dtype.kind == "f" and now.dtype.kind == "f":
            changed = np.flatnonzero(~_equal_entries(before, now))
        else:
            changed = np.flatnonzero(before != now) if before.shape == now.shape else np.arange(n_old)
        if len(changed) > max(8, n_old // 4):           # most of it changed: send it all
            source.data = inline(columns)
            return
        if len(changed):
            patches[name] = [(int(i), values[i]) for i in changed]
    if patches:
        source.patch(patches)
    if n_new > n_old:
        source.stream(inline({name: values[n_old:] for name, values in columns.items()}))


CIRCLE = np.stack([np.cos(np.linspace(0, 2 * np.pi, 80)), np.sin(np.linspace(0, 2 * np.pi, 80))])


def ellipse(mean, cov, radius: float) -> np.ndarray:
    """(2, 80): the points at Mahalanobis distance `radius` from `mean` under the 2×2 `cov`."""
    values, vectors = np.linalg.eigh(cov)
    return np.asarray(mean)[:, None] + radius * (vectors * np.sqrt(np.maximum(values, 0))) @ CIRCLE


def shown_points(n: int, limit: int = 2000) -> np.ndarray:
    """Indices of at most `limit` points to draw (evenly spread, the same on every step)."""
    return np.arange(n) if n <= limit else np.linspace(0, n - 1, limit).astype(int)


def sticky(current: tuple[float, float] | None, lo: float, hi: float, fraction: float = 0.08,
           fill: float = 0.35) -> tuple[float, float]:
    """An axis range for values in [lo, hi]: the current range while it holds them and they fill
    at least `fill` of it, else [lo, hi] padded. New tick labels make Bokeh lay the plot out
    again, so a range that stays put keeps a click cheap."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return current if current is not None else (0.0, 1.0)
    if current is not None:
        start, end = current
        if start <= lo and hi <= end and (hi - lo) >= fill * (end - start):
            return current
    return padded(lo, hi, fraction)


def padded(lo: float, hi: float, fraction: float = 0.06) -> tuple[float, float]:
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    return lo - fraction * span, hi + fraction * span
