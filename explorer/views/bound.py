"""The bound along θ_j (Bishop's Figure 9.14): log p and F(θ, q_current) as θ_j varies.

The KL gap at the current θ is drawn as a segment from F to log p at θ_j now, and the legend
quotes it: log p − F of the current state, the number the numbers panel shows.
"""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, Span

from ..shown import in_legend, texts
from .base import BEST_COLOR, F_COLOR, KL_COLOR, LOGP_COLOR, new_figure, set_columns, sticky, style_legend


class BoundView:
    def __init__(self):
        self.source = ColumnDataSource(dict(t=[], loglik=[], F=[], best=[]))
        self.target = ColumnDataSource(dict(t=[], F=[]))
        self.gap = ColumnDataSource(dict(t=[], F=[], loglik=[]))
        fig = new_figure("Bound along θ_j", "θ_j", "nats", manual=True)
        fig.varea("t", "F", "loglik", source=self.source, color=KL_COLOR, alpha=0.15, legend_label="KL gap")
        fig.line("t", "loglik", source=self.source, color=LOGP_COLOR, line_width=3, legend_label="log p(X|θ)")
        self.best = fig.line("t", "best", source=self.source, color=BEST_COLOR, line_width=2, line_dash="dotdash",
                             legend_label="best F in Q′")
        fig.line("t", "F", source=self.source, color=F_COLOR, line_width=2.5, line_dash="dashed",
                 legend_label="F(θ, q)")
        fig.scatter("t", "F", source=self.target, marker="triangle", size=13, color=F_COLOR,
                    legend_label="M target")
        self.kl_line = fig.segment("t", "F", "t", "loglik", source=self.gap, color=KL_COLOR, line_width=4,
                                   legend_label="KL now")
        fig.scatter("t", "F", source=self.gap, size=9, color=F_COLOR)
        fig.scatter("t", "loglik", source=self.gap, size=9, color=LOGP_COLOR)
        self.fixed = ColumnDataSource(dict(x=[], y0=[], y1=[], color=[], label=[]))
        fixed = fig.segment("x", "y0", "x", "y1", source=self.fixed, color="color", line_width=2.5,
                            line_dash="dashdot", legend_field="label")
        self.now = Span(location=0, dimension="height", line_color="#777777", line_dash="dotted", line_width=2)
        fig.add_layout(self.now)
        style_legend(fig, "below", columns=2, spacing=6)
        self.fixed_renderer = fixed
        fixed.visible = False
        self.legend_items = [item for item in fig.legend.items if item.renderers[0] is not fixed]
        self.fixed_item = next(item for item in fig.legend.items if item.renderers[0] is fixed)
        self.kl_item = next(item for item in fig.legend.items if item.renderers[0] is self.kl_line)
        self.figure = fig
        self._shown = None
        self._shown_once = False

    def update(self, picture, family_is_exact: bool, colors: dict):
        """picture: core.picture.Picture; colors: fixed point name → colour."""
        bound, label = picture.bound, picture.key
        shown = (label, family_is_exact, tuple(name for name, _ in picture.fixed_points))
        if shown != self._shown:          # the legend and titles change only with these
            self._shown = shown
            self.figure.xaxis.axis_label = label
            self.figure.title.text = f"Bound along {label}"
            self.best.visible = not family_is_exact
            items = [item for item in self.legend_items if item.renderers[0] is not self.best or not family_is_exact]
            self.figure.legend.items = items + ([self.fixed_item] if picture.fixed_points else [])
        set_columns(self.source, dict(t=bound.grid, loglik=bound.loglik, F=bound.F, best=bound.best_bound))
        i = int(np.nanargmax(np.where(np.isfinite(bound.F), bound.F, -np.inf))) if np.isfinite(bound.F).any() else 0
        target = bound.m_target
        set_columns(self.target, dict(t=[target], F=[np.interp(target, bound.grid, bound.F)] if np.isfinite(bound.F[i])
                                      else [np.nan]))
        t_now, _, f_now = picture.now
        log_p_now = f_now + picture.kl
        set_columns(self.gap, dict(t=[t_now], F=[f_now], loglik=[log_p_now]))
        self.now.location = t_now
        # KL as the table and the sentence write it (explorer.shown), padded to a fixed width:
        # the legend keeps its size, so the page is not laid out again on every step
        loglik = picture.loglik if not np.isnan(picture.loglik) else log_p_now
        self.kl_item.label = {"value": f"KL now = {in_legend(texts(loglik, f_now).kl)}"}
        values = np.concatenate([bound.loglik, bound.F, [f_now, log_p_now]])
        values = values[np.isfinite(values)]
        top = values.max() if len(values) else 0.0
        low = min([np.quantile(values, 0.3) if len(values) else -1.0] +
                  [v for v in (f_now, log_p_now) if np.isfinite(v)])
        # the whole F curve, the bound this plot is about, unless its fall would more than double
        # the range (log p's steep tails are what the 30 % quantile leaves out): a constrained
        # family's F lies below log p, and lesson step 8 showed only its top half
        f = bound.F[np.isfinite(bound.F)]
        if f.size:
            low = min(low, max(f.min(), top - 2 * (top - low)))
        y = self.figure.y_range
        # the last range kept while stepping (the axis holds still), chosen afresh for a new screen:
        # a lesson's step reached by Next had another y range than by Back or by its link
        current = (y.start, y.end) if self._shown_once and not picture.fresh else None
        lo, hi = sticky(current, low, top, 0.08)
        if (lo, hi) != current:
            y.start, y.end = lo, hi
        x = self.figure.x_range
        if (x.start, x.end) != (bound.grid[0], bound.grid[-1]):
            x.start, x.end = bound.grid[0], bound.grid[-1]
        self._shown_once = True
        y0, y1 = self.figure.y_range.start, self.figure.y_range.end
        fixed = picture.fixed_points
        set_columns(self.fixed, dict(x=[v for _, v in fixed], y0=[y0] * len(fixed), y1=[y1] * len(fixed),
                                     color=[colors.get(n, "#333333") for n, _ in fixed], label=[n for n, _ in fixed]))
        self.fixed_renderer.visible = bool(fixed)
