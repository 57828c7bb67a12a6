"""Trace: log p(X|θ), F(θ, q) and KL against the half-step index, E and M steps marked."""
from __future__ import annotations

from bokeh.models import ColumnDataSource, DataRange1d, HoverTool, LinearAxis

from .base import F_COLOR, KL_COLOR, LOGP_COLOR, new_figure, style_legend


class TraceView:
    def __init__(self):
        self.source = ColumnDataSource(dict(index=[], loglik=[], F=[], kl=[], kind=[], marker=[]))
        fig = new_figure("Trace: log p, F and KL (right axis) per half step", "half step", "nats")
        fig.extra_y_ranges = {"kl": DataRange1d()}
        fig.add_layout(LinearAxis(y_range_name="kl", axis_label="KL (nats)", axis_label_text_color=KL_COLOR,
                                  major_label_text_color=KL_COLOR), "right")
        logp = fig.line("index", "loglik", source=self.source, color=LOGP_COLOR, line_width=2,
                        legend_label="log p(X|θ)")
        f_line = fig.line("index", "F", source=self.source, color=F_COLOR, line_width=2, line_dash="dashed",
                          legend_label="F(θ, q)")
        markers = fig.scatter("index", "F", source=self.source, marker="marker", size=8, color=F_COLOR,
                              legend_label="● after E, ■ after M")
        kl = fig.line("index", "kl", source=self.source, color=KL_COLOR, line_width=1.5, y_range_name="kl",
                      legend_label="KL")
        self.overlay = ColumnDataSource(dict(xs=[], ys=[], color=[], label=[]))
        self.overlay_renderer = fig.multi_line("xs", "ys", source=self.overlay, color="color", line_width=2,
                                               line_alpha=0.85, legend_field="label", visible=False)
        fig.extra_y_ranges["kl"].renderers = [kl]
        fig.y_range = DataRange1d(renderers=[logp, f_line, self.overlay_renderer], range_padding=0.08)
        fig.add_tools(HoverTool(renderers=[markers], tooltips=[("step", "@index @kind"), ("log p", "@loglik{0.0000}"),
                                                                ("F", "@F{0.0000}"), ("KL", "@kl{0.0000e}")]))
        style_legend(fig)
        self.figure = fig

    def set_overlays(self, overlays):
        """(label, passes, log p values, colour) of other runs, drawn when x is passes."""
        self.overlay.data = dict(xs=[o[1] for o in overlays], ys=[o[2] for o in overlays],
                                 color=[o[3] for o in overlays], label=[f"log p: {o[0]}" for o in overlays])

    def update(self, states, by_passes: bool = False):
        marker = {"init": "diamond", "E": "circle", "M": "square"}
        x = [s.passes for s in states] if by_passes else [s.index for s in states]
        self.figure.xaxis.axis_label = "passes through the data" if by_passes else "half step"
        self.overlay_renderer.visible = by_passes and len(self.overlay.data["xs"]) > 0
        self.source.data = dict(index=x, loglik=[s.loglik for s in states],
                                F=[s.F for s in states], kl=[max(s.kl, 0.0) for s in states],
                                kind=[s.kind for s in states], marker=[marker[s.kind] for s in states])
