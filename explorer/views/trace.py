"""Trace: log p(X|θ), F(θ, q) and KL against the half step (or the passes through the data),
for the whole history, with the current state marked. A step at the end of the history streams
its one new point; only a step that cuts the history (after an undo) sends the trace again."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, HoverTool, LinearAxis, Range1d, Span

from .base import F_COLOR, KL_COLOR, LOGP_COLOR, data_replaced_in_hold, inline, new_figure, sticky, style_legend

MARKERS = {"init": "diamond", "E": "circle", "M": "square"}


def rows(states, by_passes: bool) -> dict:
    def numbers(values):
        return np.fromiter(values, float, len(states))
    return dict(x=numbers(s.passes if by_passes else s.index for s in states), loglik=numbers(s.loglik for s in states),
                F=numbers(s.F for s in states), kl=numbers(max(s.kl, 0.0) for s in states),
                kind=[s.kind for s in states], marker=[MARKERS[s.kind] for s in states])


class TraceView:
    def __init__(self):
        self.source = ColumnDataSource(rows([], False))
        fig = new_figure("Trace: log p, F and KL", "half step", "nats")
        fig.extra_y_ranges = {"kl": Range1d(0, 1)}
        fig.add_layout(LinearAxis(y_range_name="kl", axis_label="KL (nats)", axis_label_text_color=KL_COLOR,
                                  major_label_text_color=KL_COLOR,
                                  major_label_policy=fig.yaxis[0].major_label_policy), "right")
        fig.line("x", "loglik", source=self.source, color=LOGP_COLOR, line_width=2.5,
                        legend_label="log p(X|θ)")
        fig.line("x", "F", source=self.source, color=F_COLOR, line_width=2, line_dash="dashed",
                          legend_label="F(θ, q)")
        markers = fig.scatter("x", "F", source=self.source, marker="marker", size=8, color=F_COLOR,
                              legend_label="● after E, ■ after M")
        fig.line("x", "kl", source=self.source, color=KL_COLOR, line_width=1.5, y_range_name="kl",
                      legend_label="KL")
        # a dot at each state too: a line of one point (state 0) draws nothing, and log p and KL
        # were missing there
        fig.scatter("x", "loglik", source=self.source, size=5, color=LOGP_COLOR, legend_label="log p(X|θ)")
        fig.scatter("x", "kl", source=self.source, size=4, color=KL_COLOR, y_range_name="kl", legend_label="KL")
        self.overlay = ColumnDataSource(dict(xs=[], ys=[], color=[], label=[]))
        self.stalled = ColumnDataSource(dict(xs=[], ys=[], color=[], stalled=[]))
        self.overlay_renderer = fig.multi_line("xs", "ys", source=self.overlay, color="color", line_width=2,
                                               line_alpha=0.85, legend_field="label", visible=False)
        self.stalled_renderer = fig.multi_line("xs", "ys", source=self.stalled, color="color", line_width=2,
                                               line_dash="dotted", legend_field="stalled", visible=False)
        # Ranges set here, not by the browser: they move only when the numbers leave them (the x
        # axis spans this session and the compared runs that converged, not a run that never did)
        fig.y_range = Range1d(0, 1)
        fig.x_range = Range1d(0, 1)
        self.now = Span(location=0, dimension="height", line_color="#777777", line_dash="dotted", line_width=2)
        fig.add_layout(self.now)
        fig.add_tools(HoverTool(renderers=[markers], tooltips=[("step", "@x @kind"), ("log p", "@loglik{0.0000}"),
                                                                ("F", "@F{0.0000}"), ("KL", "@kl{0.0000e}")]))
        style_legend(fig, "below", columns=2, spacing=6)      # 4 in a row overflow the plot at 1366 px
        self.figure = fig
        self._sent = (None, 0, None)     # (last state sent, how many, x axis)

    def set_overlays(self, overlays):
        """(label, passes, log p values, colour, converged) of other runs, drawn when x is passes;
        a run that did not converge is dotted and left out of the x range."""
        for source, keep, column in ((self.overlay, True, "label"), (self.stalled, False, "stalled")):
            chosen = [o for o in overlays if bool(o[4]) == keep]
            source.data = {"xs": [o[1] for o in chosen], "ys": [o[2] for o in chosen], "color": [o[3] for o in chosen],
                           column: [o[0] + ("" if keep else " (not converged)") for o in chosen]}

    def update(self, history, position: int, by_passes: bool = False, fresh: bool = False):
        """The trace of `history` with `position` marked; its axes held while the values fit
        them (`sticky`), chosen afresh on a `fresh` screen."""
        last, count, axis = self._sent
        if (axis == by_passes and last is not None and len(history) > count and history[count - 1] is last
                and not data_replaced_in_hold(self.source)):
            self.source.stream(inline(rows(history[count:], by_passes)))
        elif not (axis == by_passes and len(history) == count and history[-1] is last):
            self.source.data = rows(history, by_passes)
            self.figure.xaxis.axis_label = "passes through the data" if by_passes else "half step"
            self.overlay_renderer.visible = by_passes and len(self.overlay.data["xs"]) > 0
            self.stalled_renderer.visible = by_passes and len(self.stalled.data["xs"]) > 0
        self._sent = (history[-1], len(history), by_passes)
        now = history[position]
        self.now.location = now.passes if by_passes else now.index
        self._ranges(by_passes, fresh)

    def _ranges(self, by_passes: bool, fresh: bool):
        data = self.source.data
        overlays = [np.asarray(v, float) for v in self.overlay.data["ys"]] if by_passes else []
        y = np.concatenate([np.asarray(data["loglik"], float), np.asarray(data["F"], float), *overlays])
        y = y[np.isfinite(y)]
        x_max = max([float(np.max(data["x"])) if len(data["x"]) else 1.0] +
                    [max(v, default=0) for v in (self.overlay.data["xs"] if by_passes else [])])
        kl = np.asarray(data["kl"], float)
        kl = kl[np.isfinite(kl)]
        fig = self.figure
        for rng, (lo, hi), fill in ((fig.y_range, (y.min(), y.max()) if y.size else (0, 1), 0.35),
                                    (fig.extra_y_ranges["kl"], (0.0, kl.max() if kl.size else 1.0), 0.35)):
            now = (rng.start, rng.end)
            new = sticky(None if fresh else now, lo, hi, 0.06, fill)
            if new != now:
                rng.start, rng.end = new
        end = fig.x_range.end
        if fresh or not (x_max <= end <= 1.6 * max(x_max, 4) + 1) or fig.x_range.start != -0.3:
            fig.x_range.start, fig.x_range.end = -0.3, 1.35 * max(x_max, 4) + 0.3
