"""Pictures of a failing check (core.checks' evidence): what the EM debugger found, drawn.

profile    E_q log p(X, Z | θ) along one coordinate through the M step's θ: the M step's value
           and a higher one marked (an M step that is not a maximiser);
trace      the log p trace of the run where it fell, the fall marked;
per_point  a number per data point (a posterior's gap, a point's share of F − log p), the
           points where it is largest marked.
"""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource

from .base import BEST_COLOR, F_COLOR, KL_COLOR, LOGP_COLOR, new_figure, style_legend

WIDTH, HEIGHT = 280, 210
X_TICKS = 3     # x tick labels such as 0.4275 are ~40 px wide at 100 %, twice that at 200 %: 6 overlapped


def evidence_figure(evidence: dict):
    draw = {"profile": _profile, "trace": _trace, "per_point": _per_point}.get(evidence.get("kind"))
    if draw is None:
        return None
    fig = draw(evidence)
    fig.sizing_mode = "fixed"
    fig.width, fig.height = WIDTH, HEIGHT
    fig.toolbar_location = None
    fig.title.text_font_size = "11px"
    fig.xaxis.ticker.desired_num_ticks = X_TICKS
    style_legend(fig, "below", columns=2)      # under the plot: never over the curve
    fig.legend.label_text_font_size = "11px"
    return fig


def _profile(e):
    fig = new_figure("E_q log p(X, Z | θ) along " + e["key"], e["key"], "")
    fig.line(e["t"], e["value"], color=F_COLOR, line_width=2)
    fig.scatter([e["m_step"][0]], [e["m_step"][1]], size=11, color=KL_COLOR, legend_label="the M step's θ")
    fig.scatter([e["better"][0]], [e["better"][1]], size=11, marker="triangle", color=BEST_COLOR,
                legend_label="higher")
    return fig


def _trace(e):
    steps = np.arange(len(e["loglik"]))
    fig = new_figure("log p over EM iterations", "iteration", "log p(X|θ)")
    fig.line(steps, e["loglik"], color=LOGP_COLOR, line_width=2)
    i = e["fell_at"]
    fig.segment([i - 1], [e["loglik"][i - 1]], [i], [e["loglik"][i]], color=KL_COLOR, line_width=4,
                legend_label=f"fell at iteration {i}")
    return fig


def _per_point(e):
    values = np.asarray(e["values"], dtype=float)
    points = ColumnDataSource(dict(i=np.arange(1, len(values) + 1), v=values))
    fig = new_figure(e["label"], "data point", "")
    fig.scatter("i", "v", source=points, size=4, color=F_COLOR, alpha=0.6)
    worst = np.array(e["worst"], dtype=float).reshape(-1, 2)
    fig.scatter(worst[:, 0], worst[:, 1], size=9, color=KL_COLOR, legend_label="the largest")
    return fig
