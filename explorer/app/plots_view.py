"""The plots' area: the five figures (data, bound slice, θ–q landscape, trace, identity bar)
in cells that grow with the text scale, the numbers beside them and, below, the analyses."""
from __future__ import annotations

import asyncio
import contextlib

import panel as pn
import param

from ..core.families import FAMILIES
from ..core.picture import path_points
from ..views import BoundView, IdentityView, LandscapeView, TraceView, data_view_for
from ..views.base import BEST_COLOR, LOGP_COLOR, OVERLAY_COLORS, drop_unused_glyphs, scale_fonts
from .analyses_view import Analyses
from .panel_speedup import FigurePane
from .readout_view import Readout
from .state import ExplorerState
from .viewer_tools import RUNS, tagged


def fixed_point_colors(drawn) -> dict:
    """The colours of the fixed points a picture marks (exact EM's, then the family's)."""
    return dict(zip((name for name, _ in drawn.fixed_points), (LOGP_COLOR, BEST_COLOR)))


def make_views(state, filled: bool = False) -> dict:
    """The five figures for `state`'s model; `filled`, drawn for its screen too (its picture
    computed here: a screen built off the event loop brings its figures ready)."""
    views = {"data": data_view_for(state.model), "trace": TraceView(), "bound": BoundView(),
             "landscape": LandscapeView(), "identity": IdentityView()}
    for view in views.values():
        drop_unused_glyphs(view.figure)
    if filled:
        draw_overlays(views, state)
        draw_state(views, state)
        draw_picture(views, state.drawing.picture(), FAMILIES[state.family].closes_gap)
    return views


def draw_state(views: dict, state):
    """The data, the identity bar and the trace at the current state."""
    s, fresh = state.session, state.drawing.fresh
    views["data"].update(s.current)
    views["identity"].update(s.current, fresh=fresh)
    views["trace"].update(s.history, s.position, by_passes=state.trace_axis != "half step", fresh=fresh)


def draw_picture(views: dict, drawn, closes_gap: bool):
    """The bound and the landscape of a picture (core.picture.Picture)."""
    colors = fixed_point_colors(drawn)
    views["bound"].update(drawn, closes_gap, colors)
    views["landscape"].update(drawn, colors)


def draw_overlays(views: dict, state):
    """The compared schedules' traces and paths."""
    runs = state.analyses.schedule_runs or []
    colors = [OVERLAY_COLORS[i % len(OVERLAY_COLORS)] for i in range(len(runs))]
    views["trace"].set_overlays(
        [(run.schedule, [st.passes for st in run.session.states], [st.loglik for st in run.session.states],
          color, run.converged) for run, color in zip(runs, colors)])
    paths = []
    for run, color in zip(runs, colors):
        ts, phis = path_points(run.session.states, state.coordinate)
        on = [(t, phi) for t, phi in zip(ts, phis) if phi is not None]
        paths.append((run.schedule, [t for t, _ in on], [phi for _, phi in on], color))
    views["landscape"].set_overlays(paths)


class Plots(pn.viewable.Viewer):
    """The five figures: data, bound slice, θ–q landscape, trace and identity bar."""

    state = param.ClassSelector(class_=ExplorerState)

    def __init__(self, **params):
        super().__init__(**params)
        self.panes = {name: FigurePane(None, sizing_mode="stretch_both", margin=(2, 4), min_height=200)
                      for name in ("data", "bound", "landscape", "trace", "identity")}
        # Each plot in a cell of a wrapping row: a cell is at least WIDTHS[name] px wide and HEIGHT
        # px high at 100 %, both times the text scale, so the plots grow with the text and fewer
        # fit side by side (a projector's 200 %: one or two a row, and the page scrolls).
        self.cells = {name: pn.Column(pane, sizing_mode="stretch_both", margin=0) for name, pane in self.panes.items()}
        self.readout = Readout(state=self.state)
        self.cells["readout"] = pn.Column(self.readout, sizing_mode="stretch_both", margin=0)
        # a line break after the landscape: data, bound and landscape share the first row and the
        # trace, the bar and the numbers the second, however wide the window (a wide one put five
        # plots in the first row, each too narrow for its title)
        self.row_break = pn.Spacer(height=0, margin=0, sizing_mode="stretch_width", styles={"flex": "1 1 100%"})
        self.analyses = Analyses(state=self.state)     # the restarts' traces and the basins map, below
        self._drawn_later = False     # the figures are (re)built and drawn later, by whoever set this
        self._views_due = False       # a new model's figures, built at the end of the change that set it
        self._picturing = False
        self._new_views()
        self._layout()
        self.state.param.watch(lambda e: self._drawn_later or self._new_views_once(), "model_revision")
        self.state.param.watch(lambda e: self._drawn_later or self._redraw(), "revision")
        self.state.param.watch(lambda e: self._fonts(), "scale")
        self.state.param.watch(lambda *events: self._layout(), ["scale", "presenter", "shown", "lesson_name"])
        # a drawn plot keeps the backend it was drawn with (BokehJS makes its canvas once), so a
        # new backend takes new figures
        self.state.param.watch(lambda e: self._drawn_later or self._new_views_once(), "svg")

    def _install(self, views: dict):
        """`views` become the figures drawn on: at the text scale and backend, overlays to draw."""
        self.views = views
        self._fonts()
        self._backend()
        self._overlays_for = None

    def _redraw(self):
        if self._views_due:
            self._new_views()
        else:
            self.refresh()

    def _new_views(self):
        self._views_due = False
        self._install(make_views(self.state))
        self.refresh()        # fill the new figures before they reach the page, in one piece
        for name, view in self.views.items():
            self.panes[name].object = tagged(view.figure)

    async def take_views(self, state_change, views):
        """`state_change()` (a new screen) drawn as `views`, figures made and filled for it off
        the event loop: the change, then one figure a turn of the loop, so other sessions' clicks
        are answered in between (the steps wait: `state.running`)."""
        self._drawn_later, self.state.running = True, "Showing the new screen"
        try:
            with pn.io.hold(), pn.state.curdoc.models.freeze():     # Bokeh walks the page's models once
                state_change()
            self._install(views)
            for name, view in views.items():
                await asyncio.sleep(0)
                with pn.io.hold(), pn.state.curdoc.models.freeze():
                    self.panes[name].object = tagged(view.figure)
        finally:
            self._drawn_later, self.state.running = False, ""

    def _new_views_once(self):
        """New figures for a new model (or a new backend: a drawn plot keeps its canvas), built
        once per action, after it. One action may change
        the model twice (a lesson step: its model, then its data and K); new figures put on the
        page and replaced within one message left patches to figures the page never received
        ("reference … isn't known": the page stopped at the old step). Inside a `one_change` (a
        lesson step, a preset) they are built at its end, in the action's message: the step's
        title and its plots reach the page together (built at the next tick, the plots came
        0.8-1.2 s after the title). In another held action they are built at the next tick,
        when the action is over; the old ones are not drawn meanwhile (they belong to the old
        model)."""
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None or doc.callbacks.hold_value is None:
            self._new_views()
        elif self.state.in_one_change:     # (a lesson step, a preset): built once, at the change's end,
            self._views_due = True         # in its message, so the step's title and plots show together
        else:
            self._drawn_later = True

            def build():
                self._drawn_later = False
                with pn.io.hold(doc):
                    self._new_views()
            pn.state.execute(build, schedule=True)

    @contextlib.contextmanager
    def drawn_once(self):
        """The state's changes inside are drawn once, at the end, as new figures filled before
        they reach the page. For a reload, whose steps are replayed after its new model: patches
        to figures the page has not received yet would reach it first and break the page."""
        self._drawn_later = True
        try:
            yield
        finally:
            self._drawn_later = False
            self._new_views()

    def _backend(self):
        """Canvas (fast) or SVG (vector: the save tool then exports SVG files for papers), set on
        figures before they reach the page: BokehJS makes a plot's canvas once, when it draws it
        first (setting it on a drawn plot changed the property and nothing on the screen)."""
        for view in self.views.values():
            view.figure.output_backend = "svg" if self.state.svg else "canvas"

    WIDTHS = {"data": 330, "bound": 330, "landscape": 340, "trace": 330, "identity": 180, "readout": 330}
    HEIGHT = 300             # px at 100 %; at least half the window below the step bar
    LEAST_HEIGHT = 200       # px at 100 %: below it a plot's title, axes and legend leave no room
    ABOVE = (42, 130)        # px above the plots: the header and margins, and the step bar per 100 %
    PRESENTER_ABOVE = (72, 54)   # the same in the presenter layout, its step bar one row (StepBar._scale)
    LESSON_ABOVE = 76        # px per 100 % of the presenter's compact lesson bar (buttons, title, formula)
    PRESENTER_LEAST = 150    # px at 100 %: the presenter's floor (a lesson's bar leaves less room)

    def _fonts(self):
        """The figures' fonts at the text scale (new figures, or a new scale)."""
        for view in self.views.values():
            scale_fonts(view.figure, self.state.scale)

    def _layout(self):
        """The cells' sizes and visibility, at the text scale. A cell is HEIGHT (or half the
        window) high, at most the room the window leaves below the step bar (ABOVE: the bar is
        taller at a larger scale) and at least LEAST_HEIGHT, times the scale: a plot never
        shrinks below what its texts need (the page scrolls then). The presenter layout shows the
        chosen plots only, in the sidebar's room too, all of that room high and at least two a
        row: the step bar and the first row of plots fit in the window together (a projector's
        1366×768 at 200 %). The room is reckoned from the window, not from the bars' boxes:
        Bokeh's own style held a cell to its box, and a figure drawn before the step bar had its
        final height then overflowed its cell now and then (max-height none)."""
        k = self.state.scale / 100
        presenter = self.state.presenter
        fixed, per_scale = self.PRESENTER_ABOVE if presenter else self.ABOVE
        above = fixed + per_scale * k
        if presenter and self.state.lesson_name:        # its compact bar (LessonBar), above the plots
            above += self.LESSON_ABOVE * k
        room = f"calc(100vh - {round(above)}px)"
        height = room if presenter else f"min(max({round(self.HEIGHT * k)}px, calc((100vh - 160px) / 2)), {room})"
        floor = round((self.PRESENTER_LEAST if presenter else self.LEAST_HEIGHT) * k)
        for name, cell in self.cells.items():
            width = round(self.WIDTHS[name] * k)
            grow = 0 if name == "identity" else 1
            least = f"{width}px"
            if presenter:
                least = f"min({width}px, calc(50% - 8px))"
            elif name in ("data", "bound", "landscape", "trace"):     # a third of the row at 100 %, times
                least = f"max({width}px, calc({100 * k / 3:.2f}% - 12px))"   # the scale: they grow with it
            cell.styles = {"flex": f"{grow} 1 {least if presenter else f'{width}px'}", "min-width": least,
                           "height": f"max({floor}px, {height})", "max-height": "none",
                           **({"overflow-y": "auto"} if name == "readout" else {})}   # numbers taller than
            # their cell scroll in it (they were cut mid-line: hard assignments' θ and Δθ lines)
            visible = name in self.state.shown or not presenter
            if cell.visible != visible:
                cell.visible = visible
        if self.row_break.visible == presenter:          # the presenter's plots flow on one row
            self.row_break.visible = not presenter

    def refresh(self):
        state = self.state
        with pn.io.hold():
            self._draw_overlays()
            draw_state(self.views, state)
            if state.drawing.drawn is None and state.drawing.heavy and pn.state.curdoc is not None:
                self._picture_later()
            else:
                self._draw_picture(state.drawing.picture())
            self.analyses.refresh()

    def _draw_picture(self, drawn):
        draw_picture(self.views, drawn, FAMILIES[self.state.family].closes_gap)

    def _picture_later(self):
        """The bound and the landscape of a large session, drawn off the event loop (the other
        plots are drawn at once); if the state moves on meanwhile, its latest picture is drawn."""
        if not self._picturing:
            self._picturing = True
            pn.state.execute(self._picture_in_background)

    async def _picture_in_background(self):
        state = self.state
        try:
            while state.drawing.drawn is None:
                revision, model = state.revision, state.model
                try:
                    drawn = await asyncio.get_running_loop().run_in_executor(RUNS, state.drawing.job())
                except Exception as exc:  # noqa: BLE001 - said in the page, like a step's failure
                    state.report(exc, "The landscape could not be drawn")
                    return
                if state.revision == revision and state.model is model and state.drawing.drawn is None:
                    state.drawing.keep(drawn)
                    with pn.io.hold():
                        self._draw_picture(drawn)
        finally:
            self._picturing = False

    def _draw_overlays(self):
        """The compared schedules' traces and paths: drawn once per comparison and coordinate."""
        key = (id(self.state.analyses.schedule_runs), self.state.coordinate)
        if key == self._overlays_for:
            return
        self._overlays_for = key
        draw_overlays(self.views, self.state)

    def __panel__(self):
        c = self.cells
        # one wrapping flow: the plots' cells, then, each a full row, the analyses' tables, the
        # restarts' traces and the basins map (in a column after the cells they overlapped the
        # second row of plots, the column being as high as the window)
        for box in (self.readout.tables, self.analyses.restarts_box, self.analyses.basins_box):
            box.styles = {**box.styles, "flex": "1 1 100%", "max-height": "none"}
        return pn.FlexBox(c["data"], c["bound"], c["landscape"], self.row_break, c["trace"], c["identity"], c["readout"],
                          self.readout.tables, self.analyses.restarts_box, self.analyses.basins_box,
                          flex_wrap="wrap", align_content="flex-start", sizing_mode="stretch_both", margin=0)


