"""What the views share: the palette, a figure with the house style, responsibility colours."""
from __future__ import annotations

import numpy as np
from bokeh.models import Range1d
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

PALETTE = list(Category10_10)
LOGP_COLOR, F_COLOR, KL_COLOR, BEST_COLOR = "#9467bd", "#1f77b4", "#d62728", "#2ca02c"  # readable on light and dark
OVERLAY_COLORS = ["#8c564b", "#17becf", "#e377c2", "#bcbd22"]   # other runs (compared schedules)
FONT = "13px"


def new_figure(title: str, x_label: str, y_label: str, **kwargs):
    """A figure in the house style; pass manual=True for Range1d axes that `update` sets."""
    if kwargs.pop("manual", False):
        kwargs.setdefault("x_range", Range1d(0, 1))
        kwargs.setdefault("y_range", Range1d(0, 1))
    fig = figure(title=title, x_axis_label=x_label, y_axis_label=y_label, height=kwargs.pop("height", 280),
                 sizing_mode="stretch_width", toolbar_location="above",
                 tools="pan,wheel_zoom,box_zoom,reset,save", **kwargs)
    fig.toolbar.logo = None
    fig.toolbar.autohide = True
    fig.title.text_font_size = "13px"
    for axis in (fig.xaxis, fig.yaxis):
        axis.axis_label_text_font_size = FONT
        axis.axis_label_standoff = 4
        axis.major_label_text_font_size = "11px"
        if hasattr(axis[0].ticker, "desired_num_ticks"):
            axis[0].ticker.desired_num_ticks = 4
    fig.min_border_left = 8
    fig.min_border_right = 8
    return fig


def add_subtitle(fig, text: str = ""):
    """A second, smaller title line under the title (for numbers that change with each step)."""
    from bokeh.models import Title
    subtitle = Title(text=text, text_font_size="11px", text_font_style="normal")
    fig.add_layout(subtitle, "above")
    return subtitle


def style_legend(fig, location="bottom_right"):
    fig.legend.location = location
    fig.legend.label_text_font_size = "11px"
    fig.legend.label_height = 12
    fig.legend.glyph_height = 12
    fig.legend.glyph_width = 16
    fig.legend.background_fill_alpha = 0.55
    fig.legend.border_line_alpha = 0.3
    fig.legend.padding = 2
    fig.legend.spacing = 0
    fig.legend.margin = 4
    fig.legend.click_policy = "hide"


def blend(q: np.ndarray) -> list[str]:
    """Hex colours mixing the component colours by responsibility: q is (K, n)."""
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in PALETTE[: q.shape[0]]], float)
    mixed = np.clip(np.rint(q.T @ rgb), 0, 255).astype(int)
    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in mixed]


CIRCLE = np.stack([np.cos(np.linspace(0, 2 * np.pi, 80)), np.sin(np.linspace(0, 2 * np.pi, 80))])


def ellipse(mean, cov, radius: float) -> np.ndarray:
    """(2, 80): the points at Mahalanobis distance `radius` from `mean` under the 2×2 `cov`."""
    values, vectors = np.linalg.eigh(cov)
    return np.asarray(mean)[:, None] + radius * (vectors * np.sqrt(np.maximum(values, 0))) @ CIRCLE


def shown_points(n: int, limit: int = 2000) -> np.ndarray:
    """Indices of at most `limit` points to draw (evenly spread, the same on every step)."""
    return np.arange(n) if n <= limit else np.linspace(0, n - 1, limit).astype(int)


def padded(lo: float, hi: float, fraction: float = 0.06) -> tuple[float, float]:
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    return lo - fraction * span, hi + fraction * span
