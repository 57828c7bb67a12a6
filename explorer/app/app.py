"""The Panel app: pick a model and data, step through EM, watch log p = F + KL move.

`App` is a `param.Parameterized` viewer: its parameters are the sidebar's controls; the step
buttons act on a `Session`; every view updates its data sources in place after each step.
Each App owns its model, session and figures, so every browser session (and every notebook
cell) has its own objects.
"""
from __future__ import annotations

import html
import json
import traceback
from contextlib import contextmanager

import numpy as np
import panel as pn
import param

from ..core.checks import check_model
from ..core.compare import compare_schedules, compare_with_exact
from ..core.errors import ExplorerError
from ..core.families import FAMILIES, families_for, get_family
from ..core.landscape import LandscapeCalculator, free_coordinate_count, off_slice, staircase
from ..core.model import Model, coordinates, get_coordinate
from ..core.schedules import SCHEDULE_NAMES, Incremental
from ..core.session import Session
from ..datasets import parse_csv
from ..core.loading import UserCodeError, is_model_spec, load_model_class, user_traceback
from ..models import available_models, make_model
from ..views import BoundView, IdentityView, LandscapeView, TraceView, data_view_for
from ..views.base import BEST_COLOR, LOGP_COLOR, OVERLAY_COLORS
from ..views.narrative import FORMULAS, describe, fmt

SYNTHETIC = "synthetic"
UPLOADED = "uploaded CSV"
TIGHT = "p { margin: 2px 0; } table { margin: 2px 0; } td, th { padding: 1px 6px !important; }"
PLOT_HEIGHT_TOP, PLOT_HEIGHT_BOTTOM = 265, 250


class App(pn.viewable.Viewer):
    model_name = param.Selector(default="gmm1d", objects=["gmm1d"], label="Model")
    dataset = param.Selector(default=None, objects=[], label="Data")
    K = param.Integer(default=2, bounds=(1, 8), label="Model option (K)")
    n_points = param.Integer(default=300, bounds=(10, 1_000_000), label="Synthetic N")
    data_seed = param.Integer(default=0, bounds=(0, None), label="Synthetic data seed")
    separation = param.Number(default=3.0, bounds=(0.0, 10.0), step=0.5, label="Synthetic separation")
    family = param.Selector(default="exact", objects=list(FAMILIES), label="Family of q")
    schedule = param.Selector(default="em", objects=list(SCHEDULE_NAMES), label="Schedule")
    step_size = param.Number(default=0.2, bounds=(1e-6, 100.0), label="Gradient step size η")
    block_size = param.Integer(default=20, bounds=(1, None), label="Incremental block size B")
    block_order = param.Selector(default="cyclic", objects=["cyclic", "random"], label="Block order")
    compared = param.ListSelector(default=["em", "incremental"], objects=list(SCHEDULE_NAMES),
                                  label="Schedules to compare")
    trace_axis = param.Selector(default="half step", objects=["half step", "passes through the data"],
                                label="Trace against")
    seed = param.Integer(default=0, bounds=(0, None), label="Initial θ seed")
    theta0 = param.String(default="", label="Initial θ (JSON, any subset of keys)")
    frozen = param.ListSelector(default=[], objects=[], label="Frozen parameters")
    coordinate = param.Selector(default=None, objects=[], label="θ coordinate in the plots")
    grid_size = param.Integer(default=40, bounds=(10, 120), label="Landscape grid points")
    speed = param.Number(default=2.0, bounds=(0.5, 10.0), step=0.5, label="Play speed (half steps/s)")
    playing = param.Boolean(default=False, label="Play")

    def __init__(self, model: Model | type | str | None = None, data=None, **params):
        """model: a built-in's name, a user's class or `path/to/file.py:Class`, or a model
        instance (bound to its data); data: data for a class, or new data for an instance."""
        self._models = dict(available_models())   # built-in and installed (entry point) models
        self._custom = None
        if isinstance(model, str) and is_model_spec(model):
            model = load_model_class(model)
        if isinstance(model, type) and data is not None:
            model = model(data)
        if isinstance(model, type):
            self._models[model.name] = model
            model = model.name
        if isinstance(model, Model):
            self._custom = model if data is None else model.with_data(data)
            self._models = {self._custom.name: type(self._custom)}
            model = self._custom.name
        chosen = params.pop("model_name", model or "gmm1d")
        if chosen not in self._models:
            raise ExplorerError(f"unknown model {chosen!r} (models: {', '.join(self._models)})")
        self._uploaded = None
        super().__init__(**params)
        self.param.model_name.objects = list(self._models)
        with param.parameterized.discard_events(self):   # the widgets do not exist yet
            self.model_name = chosen
        self._callback = None
        self._syncing = False
        self._frozen_for = None if "frozen" in params else ""   # the model the frozen set is for
        self._build_widgets()
        self._dataset_options()
        self._load_model()

    @classmethod
    def from_args(cls, argv: list[str]) -> "App":
        """The app for `panel serve apps/explorer.py --args --model SPEC [--data FILE]`: models are
        only ever loaded from the server's command line, never from the browser."""
        import argparse
        parser = argparse.ArgumentParser(prog="panel serve apps/explorer.py --args")
        parser.add_argument("--model", help="a model's name, path/to/file.py:Class or module:Class")
        parser.add_argument("--data", help="a CSV or .npy file for that model")
        args = parser.parse_args(argv)
        if args.data and not args.model:
            parser.error("--data needs --model")
        try:
            if args.data:
                return cls(make_model(args.model, data_file=args.data))
            return cls(args.model)
        except (ExplorerError, UserCodeError) as exc:   # show it in the page; the server keeps going
            app = cls()
            app._show_error(f"The model {args.model!r} could not be loaded: {exc}",
                            getattr(exc, "details", ""))
            return app

    # ----- the layout ----------------------------------------------------------------------------
    def _build_widgets(self):
        self.message = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width",
                                     margin=(0, 5))
        self.warning = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width",
                                     margin=(0, 5))
        self.upload = pn.widgets.FileInput(accept=".csv", label="Upload a CSV", sizing_mode="stretch_width")
        self.upload.param.watch(self._on_upload, "value")
        buttons = {"E step": self.e_step, "M step": self.m_step, "EM iteration": self.em_iteration,
                   "Run to convergence": self.run_to_convergence, "Undo": self.undo, "Redo": self.redo,
                   "Reset": self.reset}
        self.buttons = {}
        for label, action in buttons.items():
            kind = "primary" if label in ("E step", "M step", "EM iteration") else "default"
            button = pn.widgets.Button(label=label, color=kind, width=len(label) * 8 + 36, margin=(4, 3))
            button.on_click(self._guarded(action))
            self.buttons[label] = button
        self.compare_button = pn.widgets.Button(label="Compare with exact EM", sizing_mode="stretch_width",
                                                visible=False)
        self.compare_button.on_click(self._guarded(self.compare))
        self.comparison = None
        self.comparison_pane = pn.pane.Markdown("", visible=False, sizing_mode="stretch_width", margin=(0, 8),
                                                styles={"font-size": "12px"}, stylesheets=[TIGHT])
        self.randomize = pn.widgets.Button(label="Randomize", width=100, margin=(22, 5, 5, 5))
        self.randomize.on_click(self._guarded(self.randomize_theta))
        self.play = pn.widgets.Toggle.from_param(self.param.playing, label="▶ Play", width=80, margin=(4, 3))
        self.speed_slider = pn.widgets.FloatSlider.from_param(self.param.speed, width=150, margin=(0, 8))
        self.timeline = pn.widgets.IntSlider(label="Timeline (state)", start=0, end=1, value=0,
                                             sizing_mode="stretch_width", margin=(0, 12))
        self.timeline.param.watch(self._on_timeline, "value")
        self.status = pn.pane.Markdown("", margin=(0, 8), sizing_mode="stretch_width",
                                       styles={"font-size": "13px"}, stylesheets=[TIGHT])
        self.numbers = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 8),
                                        styles={"font-size": "12px"}, stylesheets=[TIGHT])
        self.formula = pn.pane.LaTeX("", sizing_mode="stretch_width", margin=(0, 8), styles={"font-size": "13px"})
        self.sentence = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 8),
                                         styles={"font-size": "13px"}, stylesheets=[TIGHT])
        self.panes = {name: pn.pane.Bokeh(None, sizing_mode="stretch_width", height=height, margin=(2, 4))
                      for name, height in (("data", PLOT_HEIGHT_TOP), ("bound", PLOT_HEIGHT_TOP),
                                           ("landscape", PLOT_HEIGHT_TOP), ("trace", PLOT_HEIGHT_BOTTOM),
                                           ("identity", PLOT_HEIGHT_BOTTOM))}
        self.option_widget = pn.widgets.IntSlider.from_param(self.param.K)
        self.step_widget = pn.widgets.FloatInput.from_param(self.param.step_size, step=0.05)
        self.block_widgets = pn.Row(pn.widgets.IntInput.from_param(self.param.block_size, width=130),
                                    pn.widgets.Select.from_param(self.param.block_order, width=120), margin=0)
        self.compare_schedules_button = pn.widgets.Button(label="Compare schedules", sizing_mode="stretch_width")
        self.compare_schedules_button.on_click(self._guarded(self.compare_schedules))
        self.schedule_runs = None
        self.check_button = pn.widgets.Button(label="Run the checks", sizing_mode="stretch_width")
        self.check_button.on_click(self._guarded(self.run_checks))
        self.check_report = pn.pane.Markdown("Checks the model against the two key results on data "
                                             "simulated from it.", sizing_mode="stretch_width",
                                             styles={"font-size": "12px"}, stylesheets=[TIGHT])
        self.synthetic_widgets = pn.Column(
            pn.widgets.IntInput.from_param(self.param.n_points, step=100),
            pn.widgets.IntInput.from_param(self.param.data_seed),
            pn.widgets.FloatSlider.from_param(self.param.separation), margin=0)

    def sidebar(self) -> pn.Column:
        p = self.param

        def card(title, *objects, collapsed=False):
            return pn.Card(*objects, title=title, collapsed=collapsed, sizing_mode="stretch_width", margin=(4, 0))

        return pn.Column(
            card("Model and data", pn.widgets.Select.from_param(p.model_name),
                 pn.widgets.Select.from_param(p.dataset), self.synthetic_widgets, self.upload, self.option_widget),
            card("Algorithm", pn.widgets.Select.from_param(p.family), self.compare_button,
                 pn.widgets.Select.from_param(p.schedule), self.step_widget, self.block_widgets,
                 pn.widgets.CheckBoxGroup.from_param(p.compared, inline=True), self.compare_schedules_button),
            card("Start", pn.Row(pn.widgets.IntInput.from_param(p.seed, width=150), self.randomize),
                 pn.widgets.TextInput.from_param(p.theta0, placeholder='e.g. {"means": [50, 80]}'),
                 pn.widgets.MultiChoice.from_param(p.frozen, placeholder="free: choose what to hold")),
            card("View", pn.widgets.Select.from_param(p.coordinate), pn.widgets.IntSlider.from_param(p.grid_size),
                 pn.widgets.RadioButtonGroup.from_param(p.trace_axis, sizing_mode="stretch_width")),
            card("Checks (EM debugger)", self.check_button, self.check_report, collapsed=True),
            sizing_mode="stretch_width")

    def main(self) -> pn.Column:
        controls = pn.Row(*self.buttons.values(), self.play, self.speed_slider, sizing_mode="stretch_width",
                          margin=0)
        numbers = pn.Column(self.status, self.sentence, self.formula, self.comparison_pane, self.numbers,
                            sizing_mode="stretch_width",
                            height=PLOT_HEIGHT_BOTTOM, scroll=True, margin=(2, 4))
        return pn.Column(
            controls, self.timeline, self.message, self.warning,
            pn.Row(self.panes["data"], self.panes["bound"], self.panes["landscape"], sizing_mode="stretch_width"),
            pn.Row(self.panes["trace"], pn.Column(self.panes["identity"], width=190, margin=0),
                   pn.Column(numbers, width=400, margin=0), sizing_mode="stretch_width"),
            sizing_mode="stretch_width")

    def __panel__(self):
        return pn.Row(pn.Column(self.sidebar(), width=300), self.main(), sizing_mode="stretch_width")

    def template(self) -> pn.template.FastListTemplate:
        return pn.template.FastListTemplate(
            title="EM explorer: log p(X|θ) = F(θ, q) + KL(q ‖ p(Z|X,θ))", sidebar=[self.sidebar()],
            main=[self.main()], sidebar_width=300, header_background="#1f4e79", theme_toggle=True,
            main_layout=None)

    def servable(self, title: str | None = None, **kwargs):
        """Serve the app in its template; the URL's query (?model=coins&data=...&K=3) picks the
        model, so a lecture can link straight to an example."""
        if pn.state.location is not None:
            pn.state.location.sync(self, {"model_name": "model", "dataset": "data", "K": "K"})
        return self.template().servable(title=title, **kwargs)

    @contextmanager
    def _quietly(self):
        """Set parameters and widgets without their watchers taking them for a user's action."""
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    # ----- building the model and the session --------------------------------------------------
    def _model_class(self):
        return self._models[self.model_name]

    def _dataset_options(self, default: bool = False):
        if self._custom is not None:
            options = ["(given)"]
        else:
            cls = self._model_class()
            options = list(cls.datasets) + [SYNTHETIC] + ([UPLOADED] if self._uploaded is not None else [])
        with self._quietly():
            self.param.dataset.objects = options
            if default or self.dataset not in options:
                default = getattr(self._model_class(), "default_dataset", None)
                self.dataset = default if default in options else options[0]
        self.synthetic_widgets.visible = self.dataset == SYNTHETIC
        option = self._option()
        self.option_widget.visible = option is not None
        if option is not None:   # the model's one option (K components, k factors) drives this slider
            self.option_widget.label = f"{option.name}: {option.help}"
            self.option_widget.end = min(option.maximum, 8)

    def _option(self):
        specs = self._model_class().option_specs
        return specs[0] if specs else None

    def _options(self) -> dict:
        option = self._option()
        return {} if option is None else {option.name: self.K}

    def _make_model(self) -> Model:
        if self._custom is not None:
            return self._custom
        cls = self._model_class()
        options = self._options()
        if self.dataset == SYNTHETIC:
            return make_model(cls, synthetic={"n": self.n_points, "seed": self.data_seed,
                                                   "separation": self.separation}, **options)
        if self.dataset == UPLOADED:
            header, values = self._uploaded
            return cls(cls.data_from_table(header, values, **options), **options)
        return make_model(cls, data=self.dataset, **options)

    def _load_model(self):
        """A new model (data or options changed): new views, new session."""
        try:
            self.model = self._make_model()
        except ExplorerError as exc:
            self._show_error(str(exc))
            if not hasattr(self, "model"):
                raise
            return
        except Exception as exc:  # noqa: BLE001 - a custom model's bug must not take the page down
            self._show_error("The model could not be built:", user_traceback(exc))
            if not hasattr(self, "model"):
                raise
            return
        spec = self.model.spec()
        with self._quietly():
            self.param.family.objects = families_for(self.model)
            if self.family not in self.param.family.objects:
                self.family = "exact"
            self.param.frozen.objects = list(spec) + [
                key for key in coordinates(self.model.params()) if key.split("[")[0] in self.model.entry_freezing]
            keep = self._frozen_for in (None, self.model.name) and set(self.frozen) <= set(self.param.frozen.objects)
            if not keep:
                self.frozen = sorted(self.model.default_frozen())
            self._frozen_for = self.model.name
            keys = coordinates(self.model.params())
            self.param.coordinate.objects = keys
            if self.coordinate not in keys:
                self.coordinate = next((k for k in keys if k.startswith("means")), keys[0])
            if self.theta0 and self._custom is None and not self._theta0_fits(spec):
                self.theta0 = ""
        self.views = {"data": data_view_for(self.model), "trace": TraceView(), "bound": BoundView(),
                      "landscape": LandscapeView(), "identity": IdentityView()}
        try:
            self._new_session()     # fills the new figures before they reach the page, in one piece
        finally:
            for name, view in self.views.items():
                self.panes[name].object = view.figure

    def _schedule_text(self, name: str | None = None) -> str:
        name = name or self.schedule
        if name == "gradient":
            return f"gradient:{self.step_size:g}"
        if name == "incremental":
            return f"incremental:{self.block_size}" + (":random" if self.block_order == "random" else "")
        return name

    def _theta0_fits(self, spec) -> bool:
        try:
            return set(json.loads(self.theta0)) <= set(spec)
        except (ValueError, TypeError):
            return False

    def _start_values(self) -> dict | None:
        if self.theta0.strip():
            try:
                values = json.loads(self.theta0)
            except json.JSONDecodeError as exc:
                raise ExplorerError(f"initial θ is not valid JSON ({exc.msg} at character {exc.pos})") from None
            if not isinstance(values, dict):
                raise ExplorerError('initial θ must be a JSON object like {"theta": 0.5}')
            return values
        return getattr(self.model, "reference_theta0", None)

    def _new_session(self):
        family = get_family(self.family, self.model)
        self.step_widget.visible = self.schedule == "gradient"
        self.block_widgets.visible = self.schedule == "incremental"
        self.session = Session(self.model, self._start_values(), family=family.name,
                               frozen=frozenset(self.frozen), seed=self.seed, schedule=self._schedule_text())
        self.session.keep_q = _states_to_keep(self.session.current.q)
        self.calculator = LandscapeCalculator(self.model, family, self.grid_size)
        self.comparison = None
        self.schedule_runs = None
        self._draw_overlays()
        self.compare_button.visible = family.name != "exact"
        self._clear_error()
        self.refresh()

    # ----- reacting to the controls ----------------------------------------------------------------
    @param.depends("model_name", watch=True)
    def _on_model_name(self):
        self._guarded(lambda: (self._dataset_options(default=True), self._load_model()))()

    @param.depends("dataset", "K", "n_points", "data_seed", "separation", watch=True)
    def _on_data(self):
        if not self._syncing:
            self.synthetic_widgets.visible = self.dataset == SYNTHETIC
            self._guarded(self._load_model)()

    @param.depends("family", "seed", "theta0", "frozen", "schedule", "step_size", "block_size", "block_order",
                   watch=True)
    def _on_start(self):
        if not self._syncing:
            self._guarded(self._new_session)()

    @param.depends("coordinate", watch=True)
    def _on_coordinate(self):
        if not self._syncing:
            self._guarded(lambda: (self._draw_overlays(), self.refresh()))()

    @param.depends("trace_axis", watch=True)
    def _on_trace_axis(self):
        if not self._syncing:
            self._guarded(self.refresh)()

    @param.depends("grid_size", watch=True)
    def _on_grid(self):
        if not self._syncing:
            self.calculator = LandscapeCalculator(self.model, get_family(self.family, self.model), self.grid_size)
            self._guarded(self.refresh)()

    @param.depends("playing", "speed", watch=True)
    def _on_play(self):
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
        self.play.label = "⏸ Pause" if self.playing else "▶ Play"
        if self.playing:
            self._callback = pn.state.add_periodic_callback(self._guarded(self._tick), period=int(1000 / self.speed))

    def _tick(self):
        s = self.session
        before = s.current
        s.step()
        self.refresh()
        if s.current.kind == "M" and before.kind == "E" and abs(s.current.loglik - before.loglik) <= 1e-10 \
                and not s.current.partial:
            self.playing = False
            self.status.object += " — converged, play stopped"

    def _on_upload(self, event):
        if not event.new:
            return

        def load():
            try:
                text = event.new.decode("utf-8")
            except UnicodeDecodeError:
                raise ExplorerError(f"{self.upload.filename}: not a text CSV file") from None
            header, values = parse_csv(text, self.upload.filename or "upload")
            cls = self._model_class()
            options = self._options()
            cls(cls.data_from_table(header, values, **options), **options)   # validate before switching
            self._uploaded = (header, values)
            self._dataset_options()
            with self._quietly():
                self.dataset = UPLOADED
            self._load_model()
        self._guarded(load)()

    def _on_timeline(self, event):
        if not self._syncing:
            self._guarded(lambda: (self.session.go_to(event.new), self.refresh()))()

    # ----- the step actions ------------------------------------------------------------------------
    def e_step(self, *_):
        self.session.e_step()
        self.refresh()

    def m_step(self, *_):
        self.session.m_step()
        self.refresh()

    def em_iteration(self, *_):
        self.session.iterate()
        self.refresh()

    def run_to_convergence(self, *_, tol: float = 1e-8, max_iterations: int = 500):
        result = self.session.run(tol=tol, max_iterations=max_iterations)
        self.refresh()
        outcome = "converged" if result.converged else "stopped before converging"
        self.status.object += f" — {outcome} after {result.iterations} iterations"

    def undo(self, *_):
        self.session.undo()
        self.refresh()

    def redo(self, *_):
        self.session.redo()
        self.refresh()

    def reset(self, *_):
        self.session.reset(self._start_values(), self.seed)
        self.refresh()

    def compare(self, *_):
        """Run exact EM and EM in the chosen family to convergence from this session's start."""
        self.comparison = compare_with_exact(self.model, self.family, self._start_values(),
                                             frozenset(self.frozen), self.seed)
        self.refresh()

    def compare_schedules(self, *_):
        """Run the chosen schedules from this session's start and overlay them."""
        chosen = [name for name in self.compared if name != "incremental" or self._incremental_ok()]
        if not chosen:
            raise ExplorerError("choose at least one schedule to compare (incremental needs a mixture model)")
        self.schedule_runs = compare_schedules(
            self.model, [self._schedule_text(name) for name in chosen], self._start_values(),
            frozenset(self.frozen), self.seed, self.family, max_passes=500)
        self._draw_overlays()
        self.trace_axis = "passes through the data"
        self.refresh()

    def _draw_overlays(self):
        """The compared schedules' log p traces and landscape paths: drawn once per comparison
        (and per coordinate), not on every step."""
        runs = self.schedule_runs or []
        colors = [OVERLAY_COLORS[i % len(OVERLAY_COLORS)] for i in range(len(runs))]
        self.views["trace"].set_overlays(
            [(run.schedule, [st.passes for st in run.session.states], [st.loglik for st in run.session.states],
              color) for run, color in zip(runs, colors)])
        self.views["landscape"].set_overlays(
            [(run.schedule, *staircase(run.session.states, self.coordinate)[:2], color)
             for run, color in zip(runs, colors)])

    def _incremental_ok(self) -> bool:
        incremental = Incremental()
        return incremental.supports(self.model) and get_family(self.family).supports_schedule(incremental)

    def run_checks(self, *_):
        """The debugger: the model against key results 1 and 2 (explorer.core.checks)."""
        report = check_model(self.model, seed=self.seed)

        def escape(text):
            return html.escape(text, quote=False)

        lines = [f"**{'All checks pass' if report.passed else 'Some checks fail'}** ({escape(report.setting)})"]
        for c in report.checks:
            lines.append(f"- {'✅' if c.passed else '❌'} {escape(c.name)}")
            if not c.passed:
                lines.append(f"  - {escape(c.message)}\n  - *breaks {escape(c.breaks)}*")
        self.check_report.object = "\n".join(lines)
        return report

    def randomize_theta(self, *_):
        with self._quietly():
            self.theta0 = ""
        self.seed = int(np.random.default_rng().integers(0, 10_000))

    # ----- drawing -------------------------------------------------------------------------------
    def refresh(self):
        """Push the current state into every view (in place) and the text panes."""
        s, key = self.session, self.coordinate
        state = s.current
        family = get_family(self.family, self.model)
        with pn.io.hold():
            self.views["data"].update(state)
            self.views["trace"].update(s.states, by_passes=self.trace_axis != "half step")
            self.views["identity"].update(state)
            n_free = free_coordinate_count(self.model, s.frozen)
            bound = self.calculator.bound_slice(state.theta, state.q, key, state.entropy)
            fixed = self._fixed_points(key)
            self.views["bound"].update(bound, family.name == "exact", key, fixed)
            landscape = self.calculator.landscape(state.theta, state.q, key, n_free)
            path = staircase(s.states, key)
            now = (path[0][-1], path[1][-1]) if path[2] and path[2][-1] == state.index else None
            self.views["landscape"].update(landscape, path, now, key, n_free, fixed, off=off_slice(s.states, key))
            self._update_text(state, family)
            with self._quietly():
                self.timeline.start = s.earliest
                self.timeline.end = max(s.earliest + 1, len(s.history) - 1)
                self.timeline.value = s.position
                self.timeline.disabled = len(s.history) < 2
            self.buttons["Undo"].disabled = not s.can_undo
            self.buttons["Redo"].disabled = not s.can_redo
            self.warning.object = "<br>".join(html.escape(w) for w in state.warnings)
            self.warning.visible = bool(state.warnings)

    def _fixed_points(self, key):
        if self.comparison is None:
            return ()
        exact, constrained = self.comparison.exact.current, self.comparison.constrained.current
        return (("θ̂ exact EM", get_coordinate(exact.theta, key), LOGP_COLOR),
                (f"θ̂ {self.comparison.family}", get_coordinate(constrained.theta, key), BEST_COLOR))

    def _comparison_table(self) -> str:
        c = self.comparison
        e, v = c.exact.current, c.constrained.current
        rows = [f"| θ̂ ({k}) | {_short(e.theta[k])} | {_short(v.theta[k])} | {_short(c.bias[k])} |"
                for k in e.theta]
        return (f"**Fixed points from the same start** (exact EM: {c.runs[0].iterations} iterations; "
                f"{c.family}: {c.runs[1].iterations})\n\n"
                f"| | exact EM | {c.family} | bias Δθ |\n|---|---|---|---|\n" + "\n".join(rows) +
                f"\n| log p | {fmt(e.loglik)} | {fmt(v.loglik)} | {fmt(v.loglik - e.loglik)} |"
                f"\n| KL gap at θ̂ | 0 | {fmt(v.kl)} | |")

    def _schedules_table(self) -> str:
        rows = []
        for run in self.schedule_runs:
            reached = run.passes_to_tol is not None
            work = f"{run.iterations_to_tol} | {run.passes_to_tol:.1f}" if reached else "not reached | –"
            rows.append(f"| {run.schedule} | {work} | {fmt(run.session.current.loglik)} |")
        return ("**Schedules from the same start**: work to come within 1e-6 of the best log p\n\n"
                "| schedule | iterations | passes | final log p |\n|---|---:|---:|---:|\n" + "\n".join(rows))

    def _update_text(self, state, family):
        s = self.session
        previous = s.history[s.position - 1] if s.position > 0 else None
        kind = {"init": "start", "E": "after an E step", "M": "after an M step"}[state.kind]
        self.status.object = f"**State {s.position} of {len(s.history) - 1}** ({kind}; family: {family.title})"

        def change(name):
            if previous is None:
                return ""
            delta = getattr(state, name) - getattr(previous, name)
            return ("+" if delta > 0 else "") + fmt(delta)

        rows = [("log p(X&#124;θ)", state.loglik, change("loglik")), ("F(θ, q)", state.F, change("F")),
                ("KL(q ‖ p(Z&#124;X,θ))", max(state.kl, 0.0), change("kl"))]
        table = "| | value | last step |\n|---|---:|---:|\n" + "\n".join(
            f"| {name} | {fmt(value)} | {delta} |" for name, value, delta in rows)
        theta = "; ".join(f"{k} = {_short(v)}" for k, v in state.theta.items())
        moved = "" if previous is None else "; ".join(
            f"{k} {_short(np.asarray(v) - np.asarray(previous.theta[k]))}" for k, v in state.theta.items()
            if not np.array_equal(v, previous.theta[k]))
        self.numbers.object = f"{table}\n\nθ: {theta}" + (f"\n\nΔθ in the last step: {moved}" if moved else "")
        self.formula.object = f"${family.formula if state.kind == 'E' else FORMULAS[state.kind]}$"
        self.sentence.object = describe(previous, state, family) + (f" ({state.detail})" if state.detail else "")
        tables = []
        if self.comparison is not None:
            tables.append(self._comparison_table())
        if self.schedule_runs:
            tables.append(self._schedules_table())
        self.comparison_pane.visible = bool(tables)
        self.comparison_pane.object = "\n\n".join(tables)

    # ----- errors --------------------------------------------------------------------------------
    def _guarded(self, action):
        """Run a control's action; show any error in the message area and keep the session."""
        def run(*args, **kwargs):
            try:
                return action(*args, **kwargs)
            except ExplorerError as exc:
                self._show_error(str(exc))
            except Exception as exc:  # noqa: BLE001 - nothing a user does may take the server down
                details = user_traceback(exc)
                if "File " not in details:      # no frame of a user's model: show them all
                    details = traceback.format_exc()
                self._show_error(f"{type(exc).__name__} in a step (the session is unchanged):", details)
        return run

    def _show_error(self, message: str, details: str = ""):
        body = f"**{html.escape(message)}**"
        if details:
            body += f"\n\n```\n{details}\n```"
        self.message.object = body
        self.message.visible = True
        if hasattr(self, "playing") and self.playing:
            self.playing = False

    def _clear_error(self):
        self.message.visible = False
        self.message.object = ""


HISTORY_BUDGET = 512 * 2**20   # bytes of q the history of one session may hold


def _states_to_keep(q) -> int | None:
    """How many recent states keep their q: all of them unless a long run on large data would
    pass HISTORY_BUDGET (then undo reaches back that far, and the trace still shows everything)."""
    if isinstance(q, np.ndarray):
        size = q.nbytes
    else:   # a q made of arrays, such as GaussianQ
        size = sum(v.nbytes for v in getattr(q, "__dict__", {}).values() if isinstance(v, np.ndarray))
    return None if size * 1000 <= HISTORY_BUDGET else max(50, HISTORY_BUDGET // max(size, 1))


def _short(value) -> str:
    array = np.asarray(value)
    if array.ndim == 0:
        return fmt(float(array))
    return np.array2string(array, precision=4, separator=", ", suppress_small=True).replace("\n", "")
