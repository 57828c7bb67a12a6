"""The sidebar: lesson and presets, model and data, algorithm, start, view, restarts, export
and the checks."""
from __future__ import annotations

import base64
import html
import io
import time

import panel as pn
import param

from ..core.families import FAMILIES
from ..core.schedules import SCHEDULE_NAMES, SCHEDULES
from ..export import trace_csv, trace_json_text
from ..views.evidence import evidence_figure
from .. import text
from .as_text import TextMultiChoice
from .save_plots import SavePlots
from .budget import SYNTHETIC
from .state import ExplorerState
from .upload import CsvUpload
from .viewer_tools import READOUT_CSS, ClosedCard, held, in_background, scaled_text, typed_box


class Controls(pn.viewable.Viewer):
    """The sidebar: model and data, algorithm, start, view, checks."""

    state = param.ClassSelector(class_=ExplorerState)
    WIDTH = 300             # px at 100 %
    MOST_SCALE = 125        # the sidebar grows with the scale up to this: past it the plots need the room

    @classmethod
    def width_at(cls, scale: int) -> int:
        """The sidebar's width at the text scale (its text and fixed widths grow as much)."""
        return round(cls.WIDTH * min(scale, cls.MOST_SCALE) / 100)

    def __init__(self, **params):
        super().__init__(**params)
        p = self.state.param
        self.layout = None          # built when first shown (`_build`)
        self.upload = CsvUpload(limit=self.state.sources.max_upload_bytes, sizing_mode="stretch_width")
        self.upload.param.watch(self._on_upload, "uploads")
        self.upload.param.watch(lambda e: self.state.refuse_upload(self.upload.refused), "refusals")
        self.synthetic = pn.Column(typed_box(pn.widgets.IntInput.from_param(p.n_points, step=100)),
                                   typed_box(pn.widgets.IntInput.from_param(p.data_seed)),
                                   pn.widgets.FloatSlider.from_param(p.separation), margin=0)
        self.option = pn.widgets.IntSlider.from_param(p.option)
        self.option_help = pn.pane.HTML("", margin=(0, 10))      # the option's meaning, below its short label
        self.step_size = typed_box(pn.widgets.FloatInput.from_param(p.step_size, step=0.05))
        # one under the other: side by side, the block size's long label ran over the order's
        self.blocks = pn.Column(typed_box(pn.widgets.IntInput.from_param(p.block_size, sizing_mode="stretch_width")),
                                pn.widgets.Select.from_param(p.block_order, sizing_mode="stretch_width"), margin=0)
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
        self.checks_card = ClosedCard("Checks (EM debugger)", self.check, self.check_report, self.check_pictures,
                                       self.against, self.compare_with)
        self.state.param.watch(lambda e: self._offer_second_implementations(), "model_revision")
        self._offer_second_implementations()
        self.state.param.watch(lambda *events: self._visibility(), ["dataset", "schedule", "family", "model_revision"])
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
            self._offer_page(standalone_html(self.state.session, self.state.coordinate,
                                             screen=self.state.links.screen()))
        else:
            pn.state.execute(self._build_page_in_background)

    async def _build_page_in_background(self):
        from ..standalone import MAX_STATES, chosen_states, standalone_html
        state = self.state
        if state.running:
            state.message = f"{state.running} is still running: wait for it, or press Cancel."
            return
        session, coordinate, screen = state.session, state.coordinate, state.links.screen()
        done, total, started = [0], len(chosen_states(session, MAX_STATES)), time.monotonic()
        self.page_download.visible = False

        def describe():
            doing = f"recording state {done[0]} of {total}" if done[0] < total else "writing the page"
            return f"{doing} ({time.monotonic() - started:.0f} s)"

        page, error = await in_background(
            state, "Building the standalone page",
            lambda: standalone_html(session, coordinate, progress=lambda i, n: done.__setitem__(0, i), screen=screen),
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
            else:       # the verdict where the eye is too: the report is at the sidebar's foot, out of view
                self.state.notes = self.state.notes_without(text.CHECKS_SAID) + [
                    f"{text.CHECKS_SAID} {text.checks_verdict(report)}."]
        return self.state.analyses.run_checks(then=show)

    def __panel__(self):
        if self.layout is None:
            self._build()
        return self.layout

    def _build(self):
        p = self.state.param

        def card(title, *objects, closed=False):
            if closed:
                return ClosedCard(title, *objects)
            return pn.Card(*objects, title=title, sizing_mode="stretch_width", margin=(4, 0))

        seed = typed_box(pn.widgets.IntInput.from_param(p.seed, width=150))
        self.layout = pn.Column(
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
            card("Start", pn.Row(seed, self.randomize),
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
        fixed = [w for w in self.layout.select(pn.widgets.Widget) if w.sizing_mode in (None, "fixed")]
        for widget in fixed:
            if widget.width in (None, self.WIDTH):    # the default width: the sidebar's, less its margins
                widget.param.update(width=None, sizing_mode="stretch_width")
        self._sized = {w: w.width for w in fixed if w.width}      # the others grow with the scale
        self.state.param.watch(lambda e: self._scale(), "scale")
        self._scale()

    def _scale(self):
        """The sidebar's text and its widgets' fixed widths at the text scale, up to MOST_SCALE
        (the template's sidebar is as much wider: `App`, `KeyboardShortcuts.sidebar_width`)."""
        scale = min(self.state.scale, self.MOST_SCALE)
        for widget, width in self._sized.items():
            widget.width = round(width * scale / 100)
        self.layout.styles = scaled_text(scale)
