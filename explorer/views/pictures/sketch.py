"""The "sketch" data picture: a model's own picture, declared in its file as layers of marks
(`core/sketch.py`), drawn here with Bokeh. Each layer kind has a drawer, registered by kind in
`LAYERS`: `add(fig, layer)` makes its glyphs and returns its data source, `columns(values)`
turns the model's columns into the source's data."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, LinearColorMapper
from bokeh.palettes import Greys256

from ..base import PALETTE, blend, grey, new_figure, shown_points, style_legend
from ..registry import data_view


def color(k) -> str:
    return PALETTE[int(k) % len(PALETTE)]


class Points:
    @staticmethod
    def add(fig, layer):
        source = ColumnDataSource(dict(x=[], y=[], color=[]))
        extra = {"legend_label": layer.legend} if layer.legend else {}
        fig.scatter("x", "y", source=source, color="color", size=6, alpha=0.8, **extra)
        return source

    @staticmethod
    def columns(values):
        """At most 2,000 points, evenly spread (the same ones at every state)."""
        x = np.asarray(values["x"], dtype=float)
        shown = shown_points(len(x))
        q = values.get("q")
        return dict(x=x[shown], y=np.asarray(values["y"], dtype=float)[shown],
                    color=grey(len(shown)) if q is None else blend(np.asarray(q, dtype=float)[:, shown]))


class Lines:
    @staticmethod
    def add(fig, layer):
        source = ColumnDataSource(dict(xs=[], ys=[], color=[]))
        extra = {"legend_label": layer.legend} if layer.legend else {}
        fig.multi_line("xs", "ys", source=source, color="color", line_width=3, **extra)
        return source

    @staticmethod
    def columns(values):
        return dict(xs=[np.asarray(v, dtype=float) for v in values["xs"]],
                    ys=[np.asarray(v, dtype=float) for v in values["ys"]],
                    color=[color(k) for k in values["k"]])


class Images:
    @staticmethod
    def add(fig, layer):
        source = ColumnDataSource(dict(image=[], x=[], y=[], dw=[], dh=[], cx=[], cy=[], color=[]))
        ink = LinearColorMapper(palette=Greys256, low=1.0, high=0.0)      # 1 = black ink
        fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=source, color_mapper=ink)
        fig.rect("cx", "cy", "dw", "dh", source=source, fill_alpha=0, line_color="color", line_width=3)
        return source

    @staticmethod
    def columns(values):
        x, y, dw, dh = (np.asarray(values[c], dtype=float) for c in ("x", "y", "dw", "dh"))
        return dict(image=[np.asarray(a, dtype=float)[::-1] for a in values["image"]],   # Bokeh's row 0 is the bottom
                    x=x, y=y, dw=dw, dh=dh, cx=x + dw / 2, cy=y + dh / 2, color=[color(k) for k in values["k"]])


class Bars:
    @staticmethod
    def add(fig, layer):
        source = ColumnDataSource(dict(left=[], right=[], bottom=[], top=[], color=[]))
        fig.quad(left="left", right="right", bottom="bottom", top="top", color="color", source=source,
                 line_color=None)
        return source

    @staticmethod
    def columns(values):
        q = np.asarray(values["q"], dtype=float)
        x, half = np.asarray(values["x"], dtype=float), float(values["width"]) / 2
        top = np.cumsum(q, axis=0)
        k = len(q)
        return dict(left=np.tile(x - half, k), right=np.tile(x + half, k),
                    bottom=(top - q).reshape(-1), top=top.reshape(-1),
                    color=[color(j) for j in range(k) for _ in range(len(x))])


LAYERS = {"points": Points, "lines": Lines, "images": Images, "bars": Bars}


@data_view("sketch")
class SketchView:
    """The model's `sketch()`, its layers' sources refilled from `sketch_data(θ, q)` at each state."""

    def __init__(self, model):
        self.model = model
        sketch = model.sketch()
        fig = new_figure(sketch.title, sketch.x_label, sketch.y_label)
        self.sources = {layer.name: (LAYERS[layer.kind], LAYERS[layer.kind].add(fig, layer))
                        for layer in sketch.layers}
        if any(layer.legend for layer in sketch.layers):
            style_legend(fig, "below", columns=3)
        self.figure = fig
        self._drawn = (None, None)       # (θ, q) drawn: an unchanged state sends nothing

    def update(self, state):
        if self._drawn[0] is state.theta and self._drawn[1] is state.q:
            return
        self._drawn = (state.theta, state.q)
        for name, values in self.model.sketch_data(state.theta, state.q).items():
            drawer, source = self.sources[name]
            source.data = drawer.columns(values)
