"""The bound along θ_j (Bishop's Figure 9.14): log p and F(θ, q_current) as θ_j varies."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, Span

from .base import BEST_COLOR, F_COLOR, KL_COLOR, LOGP_COLOR, new_figure, padded, style_legend


class BoundView:
    def __init__(self):
        self.source = ColumnDataSource(dict(t=[], loglik=[], F=[], best=[]))
        self.target = ColumnDataSource(dict(t=[], F=[]))
        fig = new_figure("Bound along θ_j", "θ_j", "nats", manual=True)
        fig.varea("t", "F", "loglik", source=self.source, color=KL_COLOR, alpha=0.18, legend_label="KL gap")
        fig.line("t", "loglik", source=self.source, color=LOGP_COLOR, line_width=2.5, legend_label="log p(X|θ)")
        self.best = fig.line("t", "best", source=self.source, color=BEST_COLOR, line_width=2, line_dash="dotdash",
                             legend_label="best F in Q′")
        fig.line("t", "F", source=self.source, color=F_COLOR, line_width=2, line_dash="dashed",
                 legend_label="F(θ, q now)")
        fig.scatter("t", "F", source=self.target, marker="triangle", size=12, color=F_COLOR,
                    legend_label="M-step target")
        self.now = Span(location=0, dimension="height", line_color="#555555", line_dash="dotted", line_width=2)
        fig.add_layout(self.now)
        style_legend(fig, "bottom_center")
        self.legend_items = list(fig.legend.items)
        self.kl_item = self.legend_items[0]
        self.figure = fig

    def update(self, bound, family_is_exact: bool, label: str):
        self.figure.xaxis.axis_label = label
        self.best.visible = not family_is_exact
        self.figure.legend.items = [item for item in self.legend_items
                                    if item.renderers[0] is not self.best or not family_is_exact]
        self.source.data = dict(t=bound.grid, loglik=bound.loglik, F=bound.F, best=bound.best_bound)
        i = int(np.argmax(bound.F))
        self.target.data = dict(t=[bound.grid[i]], F=[bound.F[i]])
        self.now.location = bound.current
        j = int(np.argmin(np.abs(bound.grid - bound.current)))
        self.figure.title.text = f"Bound along {label}"
        self.kl_item.label = {"value": f"KL gap (now {bound.loglik[j] - bound.F[j]:.3g})"}
        top = max(bound.loglik.max(), bound.F.max())
        values = np.concatenate([bound.loglik, bound.F])
        low = min(np.quantile(values, 0.35), bound.F[j], bound.loglik[j])
        self.figure.y_range.start, self.figure.y_range.end = padded(low, top, 0.1)
        self.figure.x_range.start, self.figure.x_range.end = bound.grid[0], bound.grid[-1]
