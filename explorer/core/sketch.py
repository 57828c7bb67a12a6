"""A model's data picture drawn in its own file, without a drawing library: a `Sketch`.

A model that declares `data_view = "sketch"` gives two hooks, and the views draw them (with
Bokeh in the app, `views/pictures/sketch.py`); the model's file stays numpy only:

    sketch()            → Sketch(title, x_label, y_label, layers): the picture's fixed parts
    sketch_data(θ, q)   → {layer name: its columns}: what a state shows, redrawn in place

Each layer is marks of one kind, with these columns (K components, n marks; a component k is
drawn in the k-th colour of the palette, a q (K, n) mixes the colours by its weights):

    points   x, y (n,) and optionally q (K, n)                  points, coloured by q (grey without)
    lines    xs, ys (lists of arrays), k (component of each)    one line per entry
    images   image (list of 2-D arrays in [0, 1], row 0 at the top), x, y, dw, dh (lower-left
             corner and size of each), k (component of each)    greyscale images framed in colour
    bars     x (n,), q (K, n), width (a number)                 stacked bars: bar i is q[:, i] stacked
"""
from __future__ import annotations

from dataclasses import dataclass

LAYER_KINDS = ("points", "lines", "images", "bars")


@dataclass(frozen=True)
class Layer:
    kind: str           # one of LAYER_KINDS
    name: str           # the key of its columns in sketch_data
    legend: str = ""    # the legend entry ("" for none)

    def __post_init__(self):
        if self.kind not in LAYER_KINDS:
            raise ValueError(f"layer {self.name!r} has kind {self.kind!r}; kinds: {', '.join(LAYER_KINDS)}")


@dataclass(frozen=True)
class Sketch:
    title: str
    x_label: str
    y_label: str
    layers: tuple[Layer, ...]
