"""The analyses below the plots: the restarts' traces and the basins map, each a figure drawn
from its result value, with the basins' table of fixed points."""
from __future__ import annotations

import html

import panel as pn

from ..views.base import fmt, scale_fonts
from .. import text
from .viewer_tools import READOUT_CSS, tagged


class Analyses:
    """The restarts' traces and the basins map with its table, each drawn when its result is
    new, at the text scale (Plots draws them with its refresh and places their boxes in its flow,
    below the plots)."""

    BASINS = (520, 440)       # the map's width and height in px at 100 %
    RESTARTS_HEIGHT = 380     # px at 100 %

    def __init__(self, state):
        self.state = state
        # each figure stretches in a box that _scale sizes (a height styled on the pane did not
        # reach its figure, which stayed 600 px high)
        self.basins_plot = pn.pane.Bokeh(None, sizing_mode="stretch_both", margin=(2, 4))
        self.basins_cell = pn.Column(self.basins_plot, sizing_mode="stretch_width", margin=0)
        self.basins_table = pn.pane.HTML("", stylesheets=[READOUT_CSS], sizing_mode="stretch_width", margin=(2, 6))
        # the table beside the map, or below it when the scale leaves no room beside
        self.basins_box = pn.FlexBox(self.basins_cell, self.basins_table, flex_wrap="wrap", visible=False,
                                     sizing_mode="stretch_width", margin=0)
        self._basins_for = None
        self.restarts_plot = pn.pane.Bokeh(None, sizing_mode="stretch_both", margin=(2, 4))
        # Shown and hidden through a box: a Bokeh pane told to hide copies its drawn figure's
        # stylesheets (the design's, not text) into its own and fails (the second Basins map).
        self.restarts_box = pn.Column(self.restarts_plot, visible=False, sizing_mode="stretch_width", margin=0)
        self._restarts_for = None
        state.param.watch(lambda *events: self._scale(), "scale")
        self._scale()

    def _scale(self):
        """The figures' sizes and fonts and the table's text at the text scale, as the plots';
        a figure no higher than the window's room, so it is seen whole. (Every box says
        max-height none: Bokeh holds a stretching box to the height of the flow, the window's
        room below the bars, and a taller figure then ran over the next box.)"""
        k = self.state.scale / 100

        def height(px):
            return f"min({round(px * k)}px, calc(100vh - 100px))"
        width = round(self.BASINS[0] * k)
        self.basins_cell.styles = {"flex": f"1 1 {width}px", "max-width": f"{width}px",
                                   "height": height(self.BASINS[1]), "max-height": "none"}
        self.basins_table.styles = {"flex": f"1 1 {round(360 * k)}px", "font-size": f"{round(13 * k)}px"}
        self.basins_box.styles = {**self.basins_box.styles, "max-height": "none"}
        self.restarts_box.styles = {**self.restarts_box.styles, "height": height(self.RESTARTS_HEIGHT),
                                    "max-height": "none"}
        for pane in (self.basins_plot, self.restarts_plot):
            if pane.object is not None:
                scale_fonts(pane.object, self.state.scale)

    def _scaled(self, figure):
        scale_fonts(figure, self.state.scale)
        return figure

    def refresh(self):
        state = self.state
        if state.analyses.restarts is not self._restarts_for:
            self._restarts_for = state.analyses.restarts
            self.restarts_box.visible = state.analyses.restarts is not None
            if state.analyses.restarts is not None:
                self.restarts_plot.object = self._scaled(tagged(restarts_figure(state.analyses.restarts)))
        if state.analyses.basins is not self._basins_for:
            self._basins_for = state.analyses.basins
            self.basins_box.visible = state.analyses.basins is not None
            if state.analyses.basins is not None:
                self.basins_plot.object = self._scaled(tagged(basins_figure(state.analyses.basins)))
                best = state.analyses.restarts.fixed_points[0] if state.analyses.restarts and state.analyses.restarts.fixed_points else None
                self.basins_table.object = ("<b>Fixed points of the basins map</b>" + basins_html(
                    state.analyses.basins, (best.theta, best.loglik) if best is not None else None))


def basins_figure(result):
    """The basins map: each start on the grid coloured by the fixed point EM reached from it
    (a fixed point and its label-switched twin share a colour and a number, the twin primed),
    the fixed points marked (a white circle, numbered: 1 has the highest log p)."""
    from bokeh.models import ColumnDataSource, LabelSet, LinearColorMapper
    from bokeh.palettes import Category10_10
    from ..core.model import get_coordinate
    from ..views.base import new_figure
    x, y = result.x, result.y
    names, group = basins_names(result)
    count = len(set(group))
    fig = new_figure(f"Basins of {count} fixed point{'' if count == 1 else 's'}"
                     + (" (twins merged)" if count < len(group) else ""),
                     f"{result.keys[0]} at the start", f"{result.keys[1]} at the start", manual=True)
    colors = [Category10_10[group[i] % 10] for i in range(len(result.fixed_points))]
    mapper = LinearColorMapper(palette=colors or ["#888888"], low=-0.5, high=max(len(colors), 1) - 0.5)
    dx, dy = x[1] - x[0], y[1] - y[0]
    fig.image(image=[result.label.astype(float)], x=x[0] - dx / 2, y=y[0] - dy / 2, dw=x[-1] - x[0] + dx,
              dh=y[-1] - y[0] + dy, color_mapper=mapper)
    marks = ColumnDataSource(dict(x=[get_coordinate(t, result.keys[0]) for t in result.fixed_points],
                                  y=[get_coordinate(t, result.keys[1]) for t in result.fixed_points],
                                  text=names))
    fig.scatter("x", "y", source=marks, size=12, fill_color="white", line_color="black")
    # bold: a plain 13-px "1" beside its circle was hard to find on the coloured map
    fig.add_layout(LabelSet(x="x", y="y", text="text", source=marks, x_offset=8, y_offset=4, text_font_style="bold",
                            background_fill_color="white", background_fill_alpha=0.85))
    fig.x_range.start, fig.x_range.end = x[0] - dx / 2, x[-1] + dx / 2
    fig.y_range.start, fig.y_range.end = y[0] - dy / 2, y[-1] + dy / 2
    fig.match_aspect = True
    return fig


def basins_names(result) -> tuple[list[str], list[int]]:
    """Each fixed point's number on the map (a twin: its twin's number, primed) and its group."""
    twin_of = result.twin_of or [None] * len(result.fixed_points)
    group, names, number = [], [], {}
    for i, twin in enumerate(twin_of):
        if twin is None:
            number[i] = len(number)
            group.append(number[i])
            names.append(str(number[i] + 1))
        else:
            group.append(number[twin])
            names.append(f"{number[twin] + 1}′")
    return names, group


def basins_html(result, best_elsewhere=None) -> str:
    """The map's fixed points, twins in one row; and, when the restarts found a better fixed point
    than any in this slice (`best_elsewhere`: its θ and log p), why it is not on the map."""
    names, group = basins_names(result)
    twin_of = result.twin_of or [None] * len(names)
    rows = []
    for i, (t, l, c) in enumerate(zip(result.fixed_points, result.logliks, result.counts)):
        if twin_of[i] is not None:
            continue
        twins = [j for j, w in enumerate(twin_of) if w == i]
        starts = c + sum(result.counts[j] for j in twins)
        note = f" (and {', '.join(names[j] for j in twins)}: the same with its labels switched)" if twins else ""
        rows.append(f"<tr><td class='num'>{names[i]}</td><td class='num'>{fmt(l)}</td><td class='num'>{starts}"
                    f"</td><td>{html.escape(text.short_theta(t))}{html.escape(note)}</td></tr>")
    table = ("<table class='numbers'><tr><th>#</th><th>log p</th><th>starts</th><th>θ̂</th></tr>"
             + "".join(rows) + "</table>")
    held = [k for k in result.fixed_points[0] if k not in {key.split("[")[0] for key in result.keys}] \
        if result.fixed_points else []
    words = (f"<div class='note'>Only {html.escape(result.keys[0])} and {html.escape(result.keys[1])} vary "
             f"here; {html.escape(', '.join(held) or 'the rest of θ')} stay as they are now, so these are the "
             f"fixed points of EM in this slice.</div>"
             "<div class='note'>The map runs exact EM from each start, whatever the family of q on screen "
             "(the restarts use it).</div>")
    if len(set(group)) == 1:         # one colour: say it is the slice's answer, not a failed map
        words += (f"<div class='note'>Every start reached fixed point 1: with "
                  f"{html.escape(', '.join(held) or 'the rest of θ')} held where they are now, EM in this "
                  f"slice has one attractor. The slice moves with them: map again after some EM iterations, "
                  f"or from a fixed point of the restarts (Start from it).</div>")
    if best_elsewhere is not None and result.logliks:
        theta, loglik = best_elsewhere
        if loglik > result.logliks[0] + 1e-6 * (1 + abs(loglik)):
            words += (f"<div class='warning'>The best fixed point the restarts found (log p {fmt(loglik)}) "
                      f"is not in this slice: its other coordinates differ from the ones held here "
                      f"({html.escape(text.short_theta({k: theta[k] for k in held if k in theta}))}). "
                      f"Load it with Start from it, then map again.</div>")
    return table + words


def restarts_figure(result):
    """log p after each iteration of every start, coloured by the fixed point it reached."""
    from bokeh.models import ColumnDataSource
    from bokeh.palettes import Category10_10
    from ..views.base import new_figure, style_legend
    fig = new_figure(f"log p from {len(result.traces)} starts", "iteration", "log p(X|θ)")
    reached = {seed: i for i, point in enumerate(result.fixed_points) for seed in point.seeds}
    for i, point in enumerate(result.fixed_points):
        seeds = [seed for seed in result.traces if reached.get(seed) == i]
        source = ColumnDataSource(dict(xs=[list(range(len(result.traces[s]))) for s in seeds],
                                       ys=[result.traces[s] for s in seeds]))
        fig.multi_line("xs", "ys", source=source, color=Category10_10[i % 10], alpha=0.7, line_width=1.5,
                       legend_label=f"→ fixed point {i + 1} ({point.count})")
    style_legend(fig, "below", columns=3, spacing=6)     # 1 px ran "→ fixed point 1 (8)→ fixed point 2" together
    return fig


