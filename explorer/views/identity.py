"""The identity as a bar: log p = F + KL for the current state."""
from __future__ import annotations

from bokeh.models import ColumnDataSource, Label, Range1d

from ..shown import texts
from .base import F_COLOR, KL_COLOR, LOGP_COLOR, FONTS, kl_shown, new_figure, set_columns, sticky

# "KL = 0.0370" fits the bar's frame at its narrowest (94 px at 1366 px, 100 %); a longer value
# ("0.00000827": 125 px) goes below "KL =", on a line of its own, not cut at the frame's edge
ONE_LINE_VALUE = 6


def kl_label(value: str) -> str:
    return f"KL = {value}" if len(value) <= ONE_LINE_VALUE else f"KL =\n{value}"


class IdentityView:
    def __init__(self):
        self.bars = ColumnDataSource(dict(x=[], bottom=[], top=[], color=[], name=[]))
        fig = new_figure("log p = F + KL", "", "", x_range=["F + KL", "log p"], y_range=Range1d(0, 1),
                         min_width=120)
        fig.vbar(x="x", bottom="bottom", top="top", width=0.7, color="color", source=self.bars)
        fig.toolbar_location = None
        fig.title.align = "center"
        fig.min_border_left = 4
        # the KL value inside the frame: a changing axis label would lay the plot out again
        # dark text on an opaque white box edged in KL's colour: readable over any bar (red on blue was not)
        self.kl = Label(x=0.5, y=4, x_units="screen", y_units="screen", text="", text_color="#222222",
                        text_font_size=f"{FONTS['label']}px", text_font_style="bold",
                        background_fill_color="white", background_fill_alpha=1.0, border_line_color=KL_COLOR,
                        border_line_width=2)
        fig.add_layout(self.kl)
        self.figure = fig

    def update(self, state, fresh: bool = False):
        kl = kl_shown(state.loglik, state.F)     # 0 where it is rounding
        scale = max(kl, 1e-3 * max(1.0, abs(state.loglik)))   # the bars show the last few nats
        low, high = min(state.F, state.loglik) - 1.5 * scale, max(state.F, state.loglik)
        current = (self.figure.y_range.start, self.figure.y_range.end) if self.bars.data["x"] and not fresh else None
        lo, hi = sticky(current, low, high, 0.15, fill=0.5)
        set_columns(self.bars, dict(x=["F + KL", "F + KL", "log p"], bottom=[lo, state.F, lo],
                                    top=[state.F, state.F + kl, state.loglik], color=[F_COLOR, KL_COLOR, LOGP_COLOR],
                                    name=["F", "KL", "log p"]))
        self.kl.text = kl_label(texts(state.loglik, state.F).kl)   # as the table and sentence write it
        if (lo, hi) != current:
            self.figure.y_range.start, self.figure.y_range.end = lo, hi
