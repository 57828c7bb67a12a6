"""Thin Panel viewers of an `ExplorerState`: the controls, the step bar, the plots and the
readout. Each reads the state and redraws when it changes; none computes anything itself."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import io
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import panel as pn
import param

from ..core.convergence import settled_rate
from ..core.picture import path_points
from ..core.families import FAMILIES
from ..core.schedules import SCHEDULE_NAMES, SCHEDULES
from ..export import trace_csv, trace_json_text
from ..presets import PRESETS
from ..views import BoundView, IdentityView, LandscapeView, TraceView, data_view_for
from ..views.evidence import evidence_figure
from ..views.base import BEST_COLOR, LOGP_COLOR, OVERLAY_COLORS, drop_unused_glyphs, fmt, scale_fonts
from .. import text
from .as_text import TextMultiChoice, formula_html
from .pacing import Pacer
from .panel_speedup import QuickButton, TextOnlyHTML
from .save_plots import PLOT_TAG, SavePlots
from .keyboard import SHORTCUTS, KeyboardShortcuts
from .upload import CsvUpload
from .budget import SYNTHETIC
from .state import ExplorerState
from .stepping import RunCancelled

# Long runs go here, off the server's event loop: at most as many at once as there are cores.
RUNS = ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2)), thread_name_prefix="explorer-run")

LESSON_CSS = """
.lesson { border-left: 4px solid #1f4e79; padding: 2px 10px; background: rgba(31, 78, 121, .06); }
.caption { margin: 3px 0; font-size: 1.05em; }
"""

TABLES_CSS = """
.table-block { display: inline-block; vertical-align: top; margin: 0 18px 8px 0; max-width: 100%; overflow-x: auto; }
"""

READOUT_CSS = """
:host { line-height: 1.35; }
table.numbers { border-collapse: collapse; margin: 3px 0; }
table.numbers td, table.numbers th { padding: 1px 8px; border-bottom: 1px solid rgba(128,128,128,.3); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { margin-bottom: 3px; } .sentence { margin: 3px 0; } .theta { margin: 2px 0; overflow-wrap: anywhere; }
.formula { font-family: 'DejaVu Serif', Georgia, serif; margin: 3px 0; }
.error { color: #b00020; font-weight: 600; } .warning { color: #a05a00; } .note { color: #555; }
.pass { color: #1b7f2a; font-weight: 700; } .fail { color: #b00020; font-weight: 700; }
details pre { font-size: 11px; max-height: 12em; overflow: auto; }
"""


def held(action, *args):
    """Run an action with the document held: its changes reach the page in one message.
    (Bokeh's property validation stays on: it also converts values such as a tuple given for
    a list, and an upload failed without it.)"""
    with pn.io.hold():
        return action(*args)


async def in_background(state, label: str, work, progress_pane, describe):
    """`work()` off the event loop, in the RUNS pool (other sessions keep their turn; numpy lets
    go of the interpreter while it computes), with `describe()` shown in `progress_pane` twice a
    second. `state.running` names it meanwhile: this session's steps wait until it is over.
    Returns (result, None), or (None, the exception it raised)."""
    state.running = label
    progress_pane.object = describe()
    ticker = pn.state.add_periodic_callback(lambda: setattr(progress_pane, "object", describe()), period=500)

    def guarded():
        try:
            return work(), None
        except Exception as exc:  # noqa: BLE001 - reported on the loop, like any step's failure
            return None, exc
    try:
        return await asyncio.get_running_loop().run_in_executor(RUNS, guarded)
    finally:
        ticker.stop()
        state.running = ""
        progress_pane.object = ""


def closed_card(title: str, *objects) -> pn.Card:
    """A card that starts closed, with its contents. (Filled only when first opened, a tenth of
    a page's models fewer, its widgets stayed unknown to the page's document: each click on one
    sent the widget back in full, and the server warned "reference already known".)"""
    return pn.Card(*objects, title=title, collapsed=True, sizing_mode="stretch_width", margin=(4, 0))


def typed_box(widget):
    """A number box that sends what was typed: Bokeh's box silently pulls a value past its
    start or end back to it (10⁸ became 200,000), so the box has none and the state refuses a
    value out of range in words, setting the box back (`ExplorerState.why_refused`)."""
    widget.param.update(start=None, end=None)
    return widget


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
    s = state.session
    views["data"].update(s.current)
    views["identity"].update(s.current)
    views["trace"].update(s.history, s.position, by_passes=state.trace_axis != "half step")


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
        self.panes = {name: pn.pane.Bokeh(None, sizing_mode="stretch_both", margin=(2, 4), min_height=200)
                      for name in ("data", "bound", "landscape", "trace", "identity")}
        # Each plot in a cell of a wrapping row: a cell is at least WIDTHS[name] px wide and HEIGHT
        # px high at 100 %, both times the text scale, so the plots grow with the text and fewer
        # fit side by side (a projector's 200 %: one or two a row, and the page scrolls).
        self.cells = {name: pn.Column(pane, sizing_mode="stretch_both", margin=0) for name, pane in self.panes.items()}
        self.readout = Readout(state=self.state)
        self.cells["readout"] = pn.Column(self.readout, sizing_mode="stretch_both", margin=0)
        self.basins_plot = pn.pane.Bokeh(None, width=520, height=440, margin=(2, 4))
        self.basins_table = pn.pane.HTML("", stylesheets=[READOUT_CSS], sizing_mode="stretch_width")
        self.basins_box = pn.Row(self.basins_plot, self.basins_table, visible=False, sizing_mode="stretch_width")
        self._basins_for = None
        self.restarts_plot = pn.pane.Bokeh(None, height=380, sizing_mode="stretch_width", margin=(2, 4))
        # Shown and hidden through a box: a Bokeh pane told to hide copies its drawn figure's
        # stylesheets (the design's, not text) into its own and fails (the second Basins map).
        self.restarts_box = pn.Column(self.restarts_plot, visible=False, sizing_mode="stretch_width", margin=0)
        self._restarts_for = None
        self._drawing_later = False
        self._figures_due = False
        self._picturing = False
        self._new_views()
        self._layout()
        self.state.param.watch(lambda e: self._drawing_later or self._new_views_once(), "model_revision")
        self.state.param.watch(lambda e: self._drawing_later or self._figures_due or self.refresh(), "revision")
        self.state.param.watch(lambda e: self._fonts(), "scale")
        self.state.param.watch(lambda e: self._layout(), ["scale", "presenter", "shown"])
        self.state.param.watch(lambda e: self._backend(), "svg")

    def _install(self, views: dict):
        """`views` become the figures drawn on: at the text scale and backend, overlays to draw."""
        self.views = views
        self._fonts()
        self._backend()
        self._overlays_for = None

    def _new_views(self):
        self._figures_due = False
        self._install(make_views(self.state))
        self.refresh()        # fill the new figures before they reach the page, in one piece
        for name, view in self.views.items():
            self.panes[name].object = tagged(view.figure)

    async def take_views(self, state_change, views):
        """`state_change()` (a new screen) drawn as `views`, figures made and filled for it off
        the event loop: the change, then one figure a turn of the loop, so other sessions' clicks
        are answered in between (the steps wait: `state.running`)."""
        self._drawing_later, self.state.running = True, "Showing the new screen"
        try:
            with pn.io.hold(), pn.state.curdoc.models.freeze():     # Bokeh walks the page's models once
                state_change()
            self._install(views)
            for name, view in views.items():
                await asyncio.sleep(0)
                with pn.io.hold(), pn.state.curdoc.models.freeze():
                    self.panes[name].object = tagged(view.figure)
        finally:
            self._drawing_later, self.state.running = False, ""

    def _new_views_once(self):
        """New figures for a new model, built once per action, after it. One action may change
        the model twice (a lesson step: its model, then its data and K); new figures put on the
        page and replaced within one message left patches to figures the page never received
        ("reference … isn't known": the page stopped at the old step). Inside a held action the
        figures are built at the next tick, when the action is over; the old ones are not drawn
        meanwhile (they belong to the old model)."""
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None or doc.callbacks.hold_value is None:
            self._new_views()
        elif not self._figures_due:
            self._figures_due = True

            def build():
                with pn.io.hold(doc):
                    self._new_views()
            pn.state.execute(build, schedule=True)

    @contextlib.contextmanager
    def drawn_once(self):
        """The state's changes inside are drawn once, at the end, as new figures filled before
        they reach the page. For a reload, whose steps are replayed after its new model: patches
        to figures the page has not received yet would reach it first and break the page."""
        self._drawing_later = True
        try:
            yield
        finally:
            self._drawing_later = False
            self._new_views()

    def _backend(self):
        """Canvas (fast) or SVG (vector: the save tool then exports SVG files for papers)."""
        for view in self.views.values():
            view.figure.output_backend = "svg" if self.state.svg else "canvas"

    WIDTHS = {"data": 330, "bound": 330, "landscape": 340, "trace": 330, "identity": 180, "readout": 330}
    HEIGHT = 300             # px at 100 %; at least half the window below the step bar

    def _fonts(self):
        """The figures' fonts at the text scale (new figures, or a new scale)."""
        for view in self.views.values():
            scale_fonts(view.figure, self.state.scale)

    def _layout(self):
        """The cells' sizes and visibility: the presenter layout shows the chosen plots only, in
        the sidebar's room too, as high as the window below the step bar."""
        k = self.state.scale / 100
        presenter = self.state.presenter
        height = (f"max({round(self.HEIGHT * k)}px, calc(100vh - 140px))" if presenter else
                  f"max({round(self.HEIGHT * k)}px, calc((100vh - 160px) / 2))")
        for name, cell in self.cells.items():
            width = round(self.WIDTHS[name] * k)
            grow = 0 if name == "identity" else 1
            least = f"{width}px"
            if name in ("data", "bound", "landscape", "trace"):     # a third of the row at 100 %, times
                least = f"max({width}px, calc({100 * k / 3:.2f}% - 12px))"   # the scale: they grow with it
            cell.styles = {"flex": f"{grow} 1 {width}px", "min-width": least, "height": height}
            visible = name in self.state.shown or not presenter
            if cell.visible != visible:
                cell.visible = visible

    def refresh(self):
        state = self.state
        with pn.io.hold():
            self._draw_overlays()
            draw_state(self.views, state)
            if state.drawing.drawn is None and state.drawing.heavy and pn.state.curdoc is not None:
                self._picture_later()
            else:
                self._draw_picture(state.drawing.picture())
            if state.analyses.restarts is not self._restarts_for:
                self._restarts_for = state.analyses.restarts
                self.restarts_box.visible = state.analyses.restarts is not None
                if state.analyses.restarts is not None:
                    self.restarts_plot.object = tagged(restarts_figure(state.analyses.restarts))
            if state.analyses.basins is not self._basins_for:
                self._basins_for = state.analyses.basins
                self.basins_box.visible = state.analyses.basins is not None
                if state.analyses.basins is not None:
                    self.basins_plot.object = tagged(basins_figure(state.analyses.basins))
                    best = state.analyses.restarts.fixed_points[0] if state.analyses.restarts and state.analyses.restarts.fixed_points else None
                    self.basins_table.object = ("<b>Fixed points of the basins map</b>" + basins_html(
                        state.analyses.basins, (best.theta, best.loglik) if best is not None else None))

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
        for box in (self.readout.tables, self.restarts_box, self.basins_box):
            box.styles = {"flex": "1 1 100%"}
        # a line break after the landscape: data, bound and landscape share the first row and the
        # trace, the bar and the numbers the second, however wide the window (a wide one put five
        # plots in the first row, each too narrow for its title)
        row_break = pn.Spacer(height=0, margin=0, sizing_mode="stretch_width", styles={"flex": "1 1 100%"})
        return pn.FlexBox(c["data"], c["bound"], c["landscape"], row_break, c["trace"], c["identity"], c["readout"],
                          self.readout.tables, self.restarts_box, self.basins_box,
                          flex_wrap="wrap", align_content="flex-start", sizing_mode="stretch_both", margin=0)


class Readout(pn.viewable.Viewer):
    """The numbers panel: state, what the step did and why, its formula, the numbers, any error
    or warning, the comparison tables. One HTML pane of fixed size, one change per step."""

    state = param.ClassSelector(class_=ExplorerState)

    def __init__(self, **params):
        super().__init__(**params)
        self.pane = TextOnlyHTML("", sizing_mode="stretch_both", min_width=320, margin=(2, 6),
                                 stylesheets=[READOUT_CSS])
        # the analyses' tables, in the row below the plots (Plots places it), not in the numbers'
        # scroll box where nobody found them
        self.tables = pn.pane.HTML("", sizing_mode="stretch_width", margin=(2, 6), visible=False,
                                   stylesheets=[READOUT_CSS + TABLES_CSS])
        self.state.param.watch(lambda e: self.refresh(), ["revision", "message", "notes"])
        self.state.param.watch(lambda e: self._scale(), "scale")
        self._scale()
        self.refresh()

    def _scale(self):
        self.pane.styles = {"overflow-y": "auto", "font-size": f"{round(13 * self.state.scale / 100)}px"}
        self.tables.styles = {"font-size": f"{round(13 * self.state.scale / 100)}px"}

    def refresh(self):
        tables = analysis_tables(self.state)          # once per refresh: the pane names them, the row shows them
        self.pane.object = readout_html(self.state, below=tables)
        self.tables.object = tables_html(tables)
        self.tables.visible = bool(tables)

    def __panel__(self):
        return self.pane


def readout_html(state, below: list | None = None) -> str:
    """The numbers panel's text with the analyses' tables; given `below` (analysis_tables, shown
    in their own row below the plots, as the app does), it names them instead."""
    s = state.session
    current, previous = s.current, state.previous_state
    family = state.family_object
    parts = []
    if state.message:
        parts.append(f"<div class='error'>{html.escape(state.message)}</div>")
        if state.details:
            parts.append(f"<details><summary>details</summary><pre>{html.escape(state.details)}</pre></details>")
    parts.append(f"<div class='status'>{text.status_line(s.position, len(s.history) - 1, current, family)}</div>")
    sentence = text.step_sentence(previous, current, family)
    if state.activity:
        parts.append(f"<div class='sentence'><b>{html.escape(state.activity)}</b></div>")
    parts.append(f"<div class='sentence'>{html.escape(sentence)}</div>")
    parts.append(f"<div class='formula'>{text.formula(current, family)}</div>")
    parts.append(text.numbers_table(current, previous))
    parts.append(text.rate_line(settled_rate(s.states), family))
    for warning in current.warnings:
        parts.append(f"<div class='warning'>Warning: {html.escape(warning)}</div>")
    if not (np.isfinite(current.loglik) and np.isfinite(current.F)):
        parts.append("<div class='warning'>Warning: log p or F is not finite at this θ (θ on the boundary of "
                     "its range, or q puts mass where the data are impossible); KL cannot be read here. "
                     "Take an E step, or start from another θ.</div>")
    for note in state.notes + ([s.history_note] if s.history_note else []):
        parts.append(f"<div class='note'>Note: {html.escape(note)}</div>")
    if below is None:
        parts.append(tables_html(analysis_tables(state)))
    elif below:
        names = ", ".join(name for name, _ in below)
        parts.append(f"<div class='note'><b>↓ Below the plots:</b> {html.escape(names)}.</div>")
    return "".join(parts)


def analysis_tables(state) -> list[tuple[str, str]]:
    """(name, HTML table) of each analysis that ran (comparison, schedules, restarts, the
    preset's), for the row below the plots they explain."""
    tables = []
    if state.analyses.comparison is not None:
        tables.append(("the comparison with exact EM", text.comparison_table(state.analyses.comparison)))
    if state.analyses.schedule_runs:
        tables.append(("the compared schedules", text.schedules_table(state.analyses.schedule_runs, state.analyses.schedules_left_out)))
    if state.analyses.restarts is not None:
        tables.append(("the restarts' fixed points", text.restarts_table(state.analyses.restarts)))
    if state.preset_name and state.player.preset_rows:
        preset = PRESETS[state.preset_name]
        tables.append(("the preset's numbers beside the source",
                       text.preset_table(preset.title, state.player.preset_rows, preset.caption)))
    return tables


def tables_html(tables: list[tuple[str, str]]) -> str:
    return "".join(f"<div class='table-block'>{table}</div>" for _, table in tables)


def tagged(figure):
    """`figure`, tagged as one of the plots that "All plots" saves (save_plots.py)."""
    figure.tags = [PLOT_TAG]
    return figure


class StepBar(pn.viewable.Viewer):
    """The step buttons, Play and the timeline."""

    state = param.ClassSelector(class_=ExplorerState)
    playing = param.Boolean(default=False)

    ACTIONS = (("E step", "e_step", "primary"), ("M step", "m_step", "primary"),
               ("EM iteration", "em_iteration", "primary"), ("Run to convergence", "run_to_convergence", "default"),
               ("Undo", "undo", "default"), ("Redo", "redo", "default"), ("Reset", "reset", "default"))

    def __init__(self, **params):
        super().__init__(**params)
        self.buttons = {}
        for label, action, color in self.ACTIONS:
            button = QuickButton(label=label, color=color, width=len(label) * 8 + 34, margin=(4, 3))
            button.on_click(lambda event, action=action: self._do(action))
            self.buttons[label] = button
        self.cancel = pn.widgets.Button(label="Cancel", color="danger", width=80, margin=(4, 3), visible=False)
        self.progress = pn.pane.HTML("", margin=(10, 4))
        self._cancel = threading.Event()          # set by Cancel: the running run stops after its iteration
        self.cancel.on_click(lambda event: self._cancel.set())
        self.play = pn.widgets.Toggle(label="▶ Play", width=90, margin=(4, 3), color="success")
        self.play.link(self, value="playing")
        self.speed = pn.widgets.FloatSlider.from_param(self.state.param.speed, width=170, margin=(0, 10))
        self.timeline = pn.widgets.IntSlider(label="Timeline (state)", start=0, end=1, value=0,
                                             sizing_mode="stretch_width", margin=(0, 12))
        self.timeline.param.watch(self._on_timeline, "value_throttled")
        self.pacer = Pacer(speed=self.state.speed)      # Play, paced by the page (pacing.py)
        self.pacer.param.watch(self._on_request, "requests")
        self.state.param.watch(lambda e: setattr(self.pacer, "speed", e.new), "speed")
        self.keys = KeyboardShortcuts(presenter=self.state.presenter)
        self.keys.param.watch(self._on_key, "presses")
        self.state.param.watch(lambda e: setattr(self.keys, "presenter", e.new), "presenter")
        rows = "".join(f"<tr><td><kbd>{html.escape(key)}</kbd></td><td>{html.escape(what)}</td></tr>"
                       for key, what in SHORTCUTS)
        self.help = pn.pane.HTML(f"<b>Keyboard</b> (not while typing in a box)<table>{rows}</table>",
                                 visible=False, stylesheets=[READOUT_CSS], margin=(0, 12))
        self.state.param.watch(lambda e: self.refresh(), ["revision", "running"])
        self.param.watch(lambda e: self._play(), "playing")
        self.refresh()

    def _on_key(self, event):
        """A shortcut pressed in the page (keyboard.py)."""
        key = self.keys.pressed
        if key == "help":
            self.help.visible = not self.help.visible
        elif key == "presenter":
            self.state.presenter = not self.state.presenter
        elif key == "play":
            self.playing = not self.playing
        elif key in ("back", "forward"):
            s = self.state.session
            target = s.position + (1 if key == "forward" else -1)
            if s.earliest <= target < len(s.history):
                held(lambda: self.state.go_to(target))
        else:
            self._do(key)

    def _do(self, action):
        if action == "run_to_convergence":
            self.playing = False
            if pn.state.curdoc is not None:        # served: off the event loop
                pn.state.execute(self._run_in_background)
            else:                                  # a notebook or a test: at once
                held(self.state.run_to_convergence)
            return

        def act():                   # Pause, then the action: one message to the page
            self.playing = False
            getattr(self.state, action)()
        held(act)

    async def _run_in_background(self):
        """Run to convergence off the event loop (other sessions keep their turn; numpy lets go
        of the interpreter while it computes), with its progress shown and Cancel, then the
        result drawn on the loop. One run per session: the steps wait until it is over."""
        state = self.state
        if state.running:
            return
        session, cancel, done = state.session, threading.Event(), {"iteration": 0}
        self._cancel = cancel
        self.cancel.visible = True
        started = time.monotonic()

        def work():
            result = state.converge(progress=lambda i, _: done.__setitem__("iteration", i), cancelled=cancel.is_set)
            return result, state.activity

        try:
            outcome, error = await in_background(
                state, "Run to convergence", work, self.progress,
                lambda: f"iteration {done['iteration']} ({time.monotonic() - started:.0f} s)")
        finally:
            self.cancel.visible = False
        result, activity = outcome or (None, "")

        def finish():
            if error is not None:
                raise error
            state.activity = activity
            return result
        if state.session is session:        # the settings did not change meanwhile
            held(lambda: state.act(finish))

    def background(self, label: str, compute, finish, fail, cancellable: bool = False):
        """`compute(tick)` off the event loop with its progress shown (`ExplorerState._job`) and,
        if `cancellable`, Cancel; then `finish(result)`, or `fail(exception)`, on the loop, in
        one message to the page. A cancelled job changes nothing and says so."""
        cancel, done, started = threading.Event(), [0, 0], time.monotonic()

        def tick(i, n):
            done[:] = [i, n]
            if cancel.is_set():
                raise RunCancelled(i)

        def describe():
            part = f"{done[0]} of {done[1]}, " if done[1] else ""
            return f"{label} ({part}{time.monotonic() - started:.0f} s)"

        async def job():
            self._cancel = cancel
            self.cancel.visible = cancellable
            try:
                result, error = await in_background(self.state, label, lambda: compute(tick), self.progress, describe)
            finally:
                self.cancel.visible = False
            if isinstance(error, RunCancelled):
                held(lambda: setattr(self.state, "notes", self.state.notes + [
                    f"{label}: cancelled after {done[0]} of {done[1]} (the session is unchanged)"]))
            else:
                held(fail, error) if error is not None else held(finish, result)
        pn.state.execute(job)

    def _on_timeline(self, event):
        if event.new is not None and event.new != self.state.session.position:
            held(lambda: self.state.go_to(event.new))

    def refresh(self):
        s = self.state.session
        end = max(s.earliest + 1, len(s.history) - 1)
        if (self.timeline.start, self.timeline.end, self.timeline.value) != (s.earliest, end, s.position):
            with param.parameterized.batch_call_watchers(self.timeline):    # as param.update, without
                self.timeline.start, self.timeline.end = s.earliest, end     # its snapshot of all 30
                self.timeline.value = s.position                             # parameters (a click's 0.5 ms)
        if self.playing:
            self.pacer.drawn += 1                   # with the step's drawing, in the same message
        running = bool(self.state.running)         # one action at a time: the steps wait for a run
        for label, button in self.buttons.items():
            disabled = running or (label == "Undo" and not s.can_undo) or (label == "Redo" and not s.can_redo)
            if button.disabled != disabled:         # (setting a parameter costs, even to its value)
                button.disabled = disabled
        if self.play.disabled != running:
            self.play.disabled = running
            self.speed.visible = not running        # room for Cancel and the progress

    def _play(self):
        self.play.param.update(value=self.playing, label="⏸ Pause" if self.playing else "▶ Play")
        self.pacer.playing = self.playing

    def _on_request(self, event):
        """The page asks for the next half step (pacing.py)."""
        if not self.playing:
            return
        if not held(self.state.play_step):
            self.playing = False

    def stop(self):
        self.playing = False

    def end(self):
        """The session is over: Play stops without drawing, for Bokeh has already taken the
        page's models apart (a change to one of them would raise)."""
        with param.parameterized.discard_events(self):
            self.playing = False

    def __panel__(self):
        return pn.Column(pn.Row(*self.buttons.values(), self.cancel, self.progress, self.play, self.speed,
                                sizing_mode="stretch_width", margin=0),
                         self.timeline, self.help, self.pacer, self.keys, sizing_mode="stretch_width", margin=0)


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
    fig = new_figure(f"Basins of {len(set(group))} fixed points" + (" (twins merged)" if len(set(group)) < len(group)
                                                                    else ""),
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
    fig.add_layout(LabelSet(x="x", y="y", text="text", source=marks, x_offset=8, y_offset=4,
                            background_fill_color="white", background_fill_alpha=0.7))
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
             f"fixed points of EM in this slice.</div>")
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
    style_legend(fig, "below", columns=3)
    return fig


class LessonBar(pn.viewable.Viewer):
    """The open lesson's step above the plots: Back, Next, the step's title, caption and formula
    (hidden when no lesson is open)."""

    state = param.ClassSelector(class_=ExplorerState)

    def __init__(self, **params):
        super().__init__(**params)
        self.back = QuickButton(label="◀ Back", width=90, margin=(4, 3))
        self.next = QuickButton(label="Next ▶", width=90, margin=(4, 3), color="primary")
        self.back.on_click(lambda e: held(self.state.player.lesson_back))
        self.next.on_click(lambda e: held(self.state.player.lesson_next))
        self.close = pn.widgets.Button(label="Close the lesson", width=140, margin=(4, 3))
        self.close.on_click(lambda e: held(self.state.player.close_lesson))
        self.caption = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[READOUT_CSS, LESSON_CSS],
                                    margin=(0, 10))
        self.layout = pn.Column(pn.Row(self.back, self.next, self.close, margin=0), self.caption,
                                sizing_mode="stretch_width", margin=(0, 0, 6, 0), visible=False)
        self._shown = None
        # a step's caption is rebuilt when the step or the lesson (read again when opened) is
        # another, not at every step the user takes (`revision` also marks a re-opened lesson)
        self.state.param.watch(lambda e: self.refresh(), ["revision", "lesson_name", "lesson_step"])
        self.refresh()

    def refresh(self):
        lesson = self.state.player.lesson
        number = self.state.lesson_step
        if self._shown is not None and self._shown[0] is lesson and self._shown[1] == number:
            return                              # the same step of the same lesson: its caption is there
        self._shown = (lesson, number)
        self.layout.visible = lesson is not None
        if lesson is None:
            return
        step = lesson.steps[number]
        self.back.disabled = number == 0
        self.next.disabled = number == len(lesson.steps) - 1
        self.caption.object = (f"<div class='lesson'><b>{html.escape(lesson.title)}, step {number + 1} of "
                               f"{len(lesson.steps)}: {html.escape(step.title)}</b>"
                               f"<div class='caption'>{html.escape(step.caption)}</div>"
                               + (f"<div class='formula'>{formula_html(step.formula)}</div>" if step.formula else "") + "</div>")

    def __panel__(self):
        return self.layout


class Controls(pn.viewable.Viewer):
    """The sidebar: model and data, algorithm, start, view, checks."""

    state = param.ClassSelector(class_=ExplorerState)

    def __init__(self, **params):
        super().__init__(**params)
        p = self.state.param
        self.upload = CsvUpload(limit=self.state.sources.max_upload_bytes, sizing_mode="stretch_width")
        self.upload.param.watch(self._on_upload, "uploads")
        self.upload.param.watch(lambda e: self.state.refuse_upload(self.upload.refused), "refusals")
        self.synthetic = pn.Column(typed_box(pn.widgets.IntInput.from_param(p.n_points, step=100)),
                                   typed_box(pn.widgets.IntInput.from_param(p.data_seed)),
                                   pn.widgets.FloatSlider.from_param(p.separation), margin=0)
        self.option = pn.widgets.IntSlider.from_param(p.option)
        self.option_help = pn.pane.HTML("", margin=(0, 10))      # the option's meaning, below its short label
        self.step_size = typed_box(pn.widgets.FloatInput.from_param(p.step_size, step=0.05))
        self.blocks = pn.Row(typed_box(pn.widgets.IntInput.from_param(p.block_size, width=130)),
                             pn.widgets.Select.from_param(p.block_order, width=120), margin=0)
        self.compare = pn.widgets.Button(label="Compare with exact EM", sizing_mode="stretch_width")
        self.compare.on_click(lambda e: held(self.state.analyses.compare_with_exact))
        self.compare_schedules = pn.widgets.Button(label="Compare schedules", sizing_mode="stretch_width")
        self.compare_schedules.on_click(lambda e: held(self.state.analyses.compare_schedules))
        self.randomize = pn.widgets.Button(label="Randomize", width=100, margin=(22, 5, 5, 5))
        self.randomize.on_click(lambda e: held(self.state.randomize))
        self.restart = pn.widgets.Button(label="Run restarts", sizing_mode="stretch_width")
        self.restart.on_click(lambda e: held(self.state.analyses.run_restarts))
        self.basins = pn.widgets.Button(label="Basins map (40×40 starts)", sizing_mode="stretch_width")
        self.basins.on_click(lambda e: held(self.state.analyses.run_basins))
        self.chosen_point = pn.widgets.IntInput(label="Fixed point #", value=1, start=1, width=120)
        self.load_point = pn.widgets.Button(label="Start from it", width=120, margin=(22, 5, 5, 5))
        self.load_point.on_click(lambda e: held(self.state.analyses.load_fixed_point, self.chosen_point.value))
        self.downloads = pn.Row(
            pn.widgets.FileDownload(callback=lambda: io.StringIO(trace_csv(self.state.session)),
                                    filename="em-history.csv", label="History (CSV)", width=135),
            pn.widgets.FileDownload(callback=lambda: io.StringIO(trace_json_text(self.state.session)),
                                    filename="em-history.json", label="History (JSON)", width=135), margin=0)
        self.page_build = pn.widgets.Button(label="Build the standalone page (HTML)", sizing_mode="stretch_width")
        self.page_build.on_click(lambda e: self.build_page())
        self.page_progress = pn.pane.HTML("", margin=(0, 10))
        self.page_download = pn.widgets.FileDownload(filename="em-run.html", label="", visible=False,
                                                     sizing_mode="stretch_width", color="success")
        self.all_plots = SavePlots(sizing_mode="stretch_width", margin=(5, 10))
        self.check = pn.widgets.Button(label="Run the checks", sizing_mode="stretch_width")
        self.check.on_click(lambda e: self.run_checks())
        self.check_pictures = pn.Column(margin=0)        # a picture of each failure's evidence
        self.check_report = pn.pane.HTML("Checks the model against the two key results on data simulated "
                                         "from it.", sizing_mode="stretch_width", stylesheets=[READOUT_CSS])
        self.against = pn.widgets.Select(label="Hold it against (a second implementation)", options=[],
                                         sizing_mode="stretch_width")
        self.compare_with = pn.widgets.Button(label="Compare the two", sizing_mode="stretch_width")
        self.compare_with.on_click(lambda e: self._compare_implementations())
        self.checks_card = closed_card("Checks (EM debugger)", self.check, self.check_report, self.check_pictures,
                                       self.against, self.compare_with)
        self.state.param.watch(lambda e: self._offer_second_implementations(), "model_revision")
        self._offer_second_implementations()
        self.state.param.watch(lambda e: self._visibility(), ["dataset", "schedule", "family", "model_revision"])
        self._visibility()

    def _visibility(self):
        state = self.state
        self.synthetic.visible = state.dataset == SYNTHETIC
        self.option.visible = self.option_help.visible = bool(state.model.option_specs)
        self.option_help.object = html.escape(state.model.option_specs[0].help) if state.model.option_specs else ""
        self.step_size.visible = "step_size" in SCHEDULES[state.schedule].settings
        self.blocks.visible = "block_size" in SCHEDULES[state.schedule].settings
        self.compare.visible = not FAMILIES[state.family].closes_gap

    def _on_upload(self, event):
        content, self.upload.content = self.upload.content, ""     # the session keeps the table, not the file
        name = self.upload.filename
        try:
            data = base64.b64decode(content, validate=True) if name.lower().endswith(".npy") else content.encode()
        except ValueError:
            data = b""
        held(self.state.upload, name, data)

    def build_page(self):
        """The standalone page of the run, built off the event loop with its progress shown
        (200 states take some seconds), then offered for download."""
        if pn.state.curdoc is None:             # a notebook or a test: at once
            from ..standalone import standalone_html
            self._offer_page(standalone_html(self.state.session, self.state.coordinate))
        else:
            pn.state.execute(self._build_page_in_background)

    async def _build_page_in_background(self):
        from ..standalone import MAX_STATES, chosen_states, standalone_html
        state = self.state
        if state.running:
            state.message = f"{state.running} is still running: wait for it, or press Cancel."
            return
        session, coordinate = state.session, state.coordinate
        done, total, started = [0], len(chosen_states(session, MAX_STATES)), time.monotonic()
        self.page_download.visible = False

        def describe():
            doing = f"recording state {done[0]} of {total}" if done[0] < total else "writing the page"
            return f"{doing} ({time.monotonic() - started:.0f} s)"

        page, error = await in_background(
            state, "Building the standalone page",
            lambda: standalone_html(session, coordinate, progress=lambda i, n: done.__setitem__(0, i)),
            self.page_progress, describe)
        if error is not None:
            state.report(error, "The standalone page could not be built")
        else:
            self._offer_page(page)

    def _offer_page(self, page: str):
        data = page.encode("utf-8")
        self.page_download.param.update(file=io.BytesIO(data), visible=True,
                                        label=f"Download em-run.html ({len(data) / 2**20:.1f} MB)")

    def _offer_second_implementations(self):
        names = self.state.analyses.second_implementations()
        self.against.options = names
        self.against.value = names[-1] if names else None      # the last given: usually the one --against named
        self.against.visible = self.compare_with.visible = bool(names)

    def _compare_implementations(self):
        def show(report):
            self.check_report.object = text.checks_report(report)
            self.check_pictures.objects = []
            if not report.passed:
                self.checks_card.collapsed = False
        return self.state.analyses.compare_implementations(self.against.value, then=show) if self.against.value else None

    def run_checks(self, then=None):
        """The checks (off the event loop when served); the report is shown, then given to
        `then`. Returns the report when it ran at once (a notebook, a test)."""
        def show(report):
            self.check_report.object = text.checks_report(report)
            figures = [evidence_figure(c.evidence) for c in report.checks if not c.passed and c.evidence]
            self.check_pictures.objects = [pn.pane.Bokeh(f, margin=(2, 0)) for f in figures if f is not None]
            if not report.passed:
                self.checks_card.collapsed = False          # a failure is shown, not hidden in a closed card
            if then is not None:
                then(report)
        return self.state.analyses.run_checks(then=show)

    def __panel__(self):
        p = self.state.param

        def card(title, *objects, closed=False):
            if closed:
                return closed_card(title, *objects)
            return pn.Card(*objects, title=title, sizing_mode="stretch_width", margin=(4, 0))

        return pn.Column(
            card("Lesson and presets", pn.widgets.Select.from_param(p.lesson_name, label="Lesson (a guided path)"),
                 pn.pane.HTML("A lesson sets up each screen and says what it shows; Back and Next "
                              "come back to it whatever you did in between.", margin=(0, 10)),
                 pn.widgets.Select.from_param(p.preset_name),
                 pn.pane.HTML("A preset sets up a figure of the literature and puts our numbers "
                              "beside the published ones.", margin=(0, 10))),
            card("Model and data", pn.widgets.Select.from_param(p.model_name), pn.widgets.Select.from_param(p.dataset),
                 self.synthetic, pn.pane.HTML("Upload a CSV (header row, numbers):", margin=(0, 10)),
                 self.upload, self.option, self.option_help),
            card("Algorithm", pn.widgets.Select.from_param(p.family), self.compare,
                 pn.widgets.Select.from_param(p.schedule), self.step_size, self.blocks,
                 pn.widgets.CheckBoxGroup.from_param(p.compared, options=list(SCHEDULE_NAMES), inline=True),
                 self.compare_schedules),
            card("Start", pn.Row(typed_box(pn.widgets.IntInput.from_param(p.seed, width=150)), self.randomize),
                 pn.widgets.TextInput.from_param(p.theta0, placeholder='e.g. {"means": [50, 80]}'),
                 TextMultiChoice.from_param(p.frozen, placeholder="free: choose what to hold")),
            card("View", pn.widgets.Select.from_param(p.coordinate), pn.widgets.IntSlider.from_param(p.grid_size),
                 pn.widgets.Checkbox.from_param(p.zoom, name="Zoom the landscape to the path (off: whole range)"),
                 pn.pane.HTML("The trace's x axis:", margin=(0, 10)),
                 pn.widgets.RadioButtonGroup.from_param(p.trace_axis, sizing_mode="stretch_width"),
                 pn.widgets.IntSlider.from_param(p.scale), pn.widgets.Checkbox.from_param(p.presenter),
                 pn.widgets.MultiChoice.from_param(p.shown), pn.widgets.Checkbox.from_param(p.svg)),
            card("Restarts (local optima)", typed_box(pn.widgets.IntInput.from_param(p.restart_count)), self.restart,
                 pn.Row(self.chosen_point, self.load_point, margin=0),
                 pn.pane.HTML("Or EM from a grid of starts over the plots' coordinate and the next one, "
                              "the rest of θ held (drawn below the plots):", margin=(0, 10)),
                 self.basins, closed=True),
            card("Export", pn.pane.HTML("The states up to the current one: θ, log p, F, KL, rate "
                                        "(the JSON is the CLI's trace format).", margin=(0, 10)),
                 self.downloads,
                 pn.pane.HTML("A page with a slider through the states that opens offline with no Python "
                              "(up to 200 states, for a course page or slides):", margin=(0, 10)),
                 self.page_build, self.page_progress, self.page_download,
                 pn.pane.HTML("The five plots as they are on screen, in one image (each plot's own save "
                              "button saves it alone):", margin=(0, 10)),
                 self.all_plots, closed=True),
            self.checks_card,
            sizing_mode="stretch_width")
