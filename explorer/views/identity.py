"""The identity as a bar: log p = F + KL for the current state."""
from __future__ import annotations

from bokeh.models import ColumnDataSource, Range1d

from .base import F_COLOR, KL_COLOR, LOGP_COLOR, new_figure, padded


class IdentityView:
    def __init__(self):
        self.bars = ColumnDataSource(dict(x=[], bottom=[], top=[], color=[], name=[]))
        fig = new_figure("log p = F + KL", "", "nats", x_range=["F + KL", "log p"], y_range=Range1d(0, 1),
                         height=280)
        fig.vbar(x="x", bottom="bottom", top="top", width=0.7, color="color", source=self.bars)
        fig.toolbar_location = None
        self.figure = fig

    def update(self, state):
        kl = max(state.kl, 0.0)
        scale = max(kl, 1e-3 * max(1.0, abs(state.loglik)))   # the bars show the last few nats
        lo, hi = padded(min(state.F, state.loglik) - 1.5 * scale, max(state.F, state.loglik), 0.15)
        self.bars.data = dict(x=["F + KL", "F + KL", "log p"], bottom=[lo, state.F, lo],
                              top=[state.F, state.F + kl, state.loglik], color=[F_COLOR, KL_COLOR, LOGP_COLOR],
                              name=["F", "KL", "log p"])
        self.figure.xaxis.axis_label = f"KL = {kl:.3g}"
        self.figure.xaxis.axis_label_text_color = "#d62728"
        self.figure.y_range.start, self.figure.y_range.end = lo, hi
