"""The genetic-linkage model's picture: the four cells, with the E step's split of the first
cell into its 1/2 and θ/4 parts (hooks `split_of_first_cell(q)`, `cell_probabilities(θ)`)."""
from __future__ import annotations

from bokeh.models import ColumnDataSource

from ..base import PALETTE, add_subtitle, new_figure, style_legend
from ..registry import data_view


@data_view("cells")
class LinkageDataView:
    """The four cells, with the E step's split of the first cell into its 1/2 and θ/4 parts."""

    # each cell's number above its probability: on one line the four ran into each other at
    # 1366 px ("1: ½ + θ/42: (1−θ)/4")
    CELLS = ["1\n½ + θ/4", "2\n(1−θ)/4", "3\n(1−θ)/4", "4\nθ/4"]

    def __init__(self, model):
        self.model = model
        y = model.data
        fig = new_figure(f"{int(y.sum())} animals in 4 cells", "cell", "count",
                         x_range=self.CELLS)
        self.subtitle = add_subtitle(fig)
        self.stack = ColumnDataSource(dict(cell=[], half=[], theta_part=[], rest=[]))
        fig.vbar_stack(["half", "theta_part", "rest"], x="cell", width=0.7, source=self.stack,
                       color=["#bbbbbb", PALETTE[0], "#888888"],
                       legend_label=["cell 1: ½ part (x₁)", "cell 1: θ/4 part (x₂)", "observed"])
        self.expected = ColumnDataSource(dict(cell=self.CELLS, y=[0.0] * 4))
        fig.scatter("cell", "y", source=self.expected, marker="circle", size=11, color="#d62728",
                    legend_label="expected count under θ")
        fig.y_range.start = 0
        fig.y_range.end = y.max() * 1.25
        style_legend(fig, "below", columns=2, spacing=2)     # 1 px ran "(x₁)■cell 1" together at 200 %; 3 px left the plot at 1366 px, 100 %
        self.figure = fig

    def update(self, state):
        y = self.model.data
        x1, x2 = self.model.split_of_first_cell(state.q)
        self.stack.data = dict(cell=self.CELLS, half=[x1, 0, 0, 0], theta_part=[x2, 0, 0, 0],
                               rest=[0, y[1], y[2], y[3]])
        self.expected.data = dict(cell=self.CELLS, y=y.sum() * self.model.cell_probabilities(state.theta))
        self.subtitle.text = f"q splits cell 1: x₁ = {x1:.2f}, x₂ = {x2:.2f}"
