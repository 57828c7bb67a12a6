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
        self.fixed = ColumnDataSource(dict(x=[], y0=[], y1=[], color=[], label=[]))
        fixed = fig.segment("x", "y0", "x", "y1", source=self.fixed, color="color", line_width=2.5, line_dash="dashdot",
                    legend_field="label")
        self.now = Span(location=0, dimension="height", line_color="#555555", line_dash="dotted", line_width=2)
        fig.add_layout(self.now)
        style_legend(fig, "bottom_center")
        self.fixed_renderer = fixed
        fixed.visible = False
        self.legend_items = [item for item in fig.legend.items if item.renderers[0] is not fixed]
        self.fixed_item = next(item for item in fig.legend.items if item.renderers[0] is fixed)
        self.kl_item = self.legend_items[0]
        self.figure = fig

    def update(self, bound, family_is_exact: bool, label: str, fixed_points=()):
        """fixed_points: (name, θ_j value, colour) of converged runs to mark (Compare)."""
        self.figure.xaxis.axis_label = label
        self.best.visible = not family_is_exact
        self.figure.legend.items = [item for item in self.legend_items
                                    if item.renderers[0] is not self.best or not family_is_exact]
        if fixed_points:
            self.figure.legend.items = self.figure.legend.items + [self.fixed_item]
        self.source.data = dict(t=bound.grid, loglik=bound.loglik, F=bound.F, best=bound.best_bound)
        i = int(np.argmax(bound.F))
        self.target.data = dict(t=[bound.grid[i]], F=[bound.F[i]])
        self.now.location = bound.current
        j = int(np.argmin(np.abs(bound.grid - bound.current)))
        self.figure.title.text = f"Bound along {label}"
        self.kl_item.label = {"value": f"KL gap (now {bound.loglik[j] - bound.F[j]:.3g})"}
        values = np.concatenate([bound.loglik, bound.F])
        values = values[np.isfinite(values)]
        top = values.max() if len(values) else 0.0
        low = min(np.quantile(values, 0.35) if len(values) else -1.0,
                  *(v for v in (bound.F[j], bound.loglik[j]) if np.isfinite(v)))
        self.figure.y_range.start, self.figure.y_range.end = padded(low, top, 0.1)
        self.figure.x_range.start, self.figure.x_range.end = bound.grid[0], bound.grid[-1]
        y0, y1 = self.figure.y_range.start, self.figure.y_range.end
        self.fixed.data = dict(x=[v for _, v, _ in fixed_points], y0=[y0] * len(fixed_points),
                               y1=[y1] * len(fixed_points), color=[c for _, _, c in fixed_points],
                               label=[n for n, _, _ in fixed_points])
        self.fixed_renderer.visible = bool(fixed_points)
