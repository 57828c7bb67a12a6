"""The coin-tossing model's picture: each set of tosses with q(coin A), and the expected
head and tail counts per coin (hook `expected_counts(q)`)."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, FactorRange, LabelSet

from ..base import PALETTE, add_subtitle, new_figure, style_legend
from ..registry import data_view

MAX_SETS = 30


@data_view("sets")
class CoinsDataView:
    """Each set of tosses with q(coin A), and the expected head/tail counts per coin."""

    def __init__(self, model):
        self.model = model
        n = min(len(model.data), MAX_SETS)
        self.rows = [f"{i + 1}: {int(h)}H {int(t - h)}T" for i, (h, t) in enumerate(model.data[:n])]
        shown = "" if n == len(model.data) else f" (first {n} of {len(model.data)})"
        fig = new_figure(f"q(coin A) for each set{shown}", "q(z = A) | q(z = B)", "",
                         y_range=FactorRange(*reversed(self.rows)), x_range=(0, 1))
        self.subtitle = add_subtitle(fig)
        self.bars = ColumnDataSource(dict(y=[], a=[], one=[]))
        fig.hbar(y="y", left=0, right="a", height=0.7, color=PALETTE[0], source=self.bars, legend_label="coin A")
        fig.hbar(y="y", left="a", right="one", height=0.7, color=PALETTE[1], source=self.bars,
                 legend_label="coin B")
        self.text = ColumnDataSource(dict(y=[], x=[], text=[]))
        fig.add_layout(LabelSet(x="x", y="y", text="text", source=self.text, text_font_size="12px",
                                text_color="white", y_offset=-6, x_offset=4))
        style_legend(fig, "below", columns=2, spacing=6)
        fig.legend.orientation = "horizontal"
        self.figure = fig

    def update(self, state):
        q_a = np.asarray(state.q)[0, : len(self.rows)]
        self.bars.data = dict(y=self.rows, a=q_a, one=np.ones(len(self.rows)))
        self.text.data = dict(y=self.rows, x=np.zeros(len(self.rows)), text=[f"{v:.2f}" for v in q_a])
        c = self.model.expected_counts(state.q)
        self.subtitle.text = (f"expected H, T  A: {c['A'][0]:.1f}, {c['A'][1]:.1f}  "    # fits the figure's
                              f"B: {c['B'][0]:.1f}, {c['B'][1]:.1f}")                     # width at 1366 px
