"""The app's state: every setting, the session and the actions, with no Panel in sight.

`ExplorerState` is a `param.Parameterized`. Its parameters are the settings a user can change
(model, data, family, schedule, start, view); its methods are the actions (steps, undo, reset,
compare, upload). A change of settings is validated by building the new model and session
completely before anything is swapped in: if that fails, the parameters are set back, the
session is untouched and `message` names the problem. The viewers only read the state and
redraw when `revision` (a step or a move in the history) or `model_revision` (new model and
data, so new figures) goes up.

The whole screen is a URL query (`to_query` / `from_query`): the settings that differ from the
defaults, the history as the half steps taken (`steps=EM12E`: "EM" twelve times, then E) and
the timeline position (`at`). Replaying the steps rebuilds the same states to the last digit;
a bad or stale value is skipped with a note.
"""
from __future__ import annotations

import gc
import json
import re
import traceback
import weakref
from contextlib import contextmanager

import numpy as np
import param

from ..core.checks import check_model, compare_implementations
from ..core.compare import compare_schedules, compare_with_exact
from ..core.convergence import em_map_rate, theta_vector
from ..core.errors import ExplorerError
from ..core.families import FAMILIES, families_for, get_family
from ..core.loading import UserCodeError, is_model_spec, load_model_class, user_traceback
from ..core.model import Model, coordinates, first_coordinate, get_coordinate, parse_theta_json, theta_to_json
from ..core.basins import basins
from ..core.restarts import MAX_STARTS, run_restarts
from ..core.picture import PathMemo, landscape_calculator, picture
from ..core.schedules import SCHEDULE_NAMES, SCHEDULES, schedules_for, why_not
from ..core.session import Session
from ..datasets import table_from_bytes
from ..lessons import available_lessons, load_lesson
from ..presets import PRESETS, rows as preset_rows
from ..models import available_models, make_model

SYNTHETIC = "synthetic"
UPLOADED = "uploaded CSV"
GIVEN = "(given)"
MAX_UPLOAD_BYTES = 10 * 2**20   # the default upload limit (`--args --max-upload-mb`): under the websocket's 20 MB
CONVERGED = 1e-10          # Play stops when an iteration changes log p by no more than this

# A session's budget (README, "A session's budget"). Work: a session holds at most MAX_POINTS data
# points (synthetic or uploaded; numpy holds the interpreter for up to a few hundredths of a
# second per 10⁵ points in some of its calls, which other sessions wait out); a link replays at
# most MAX_STEPS half steps, and at most REPLAY_WORK data points × half steps (2·10⁵ points: 100
# half steps). Memory: the history keeps q within APP_HISTORY_BUDGET bytes. A session with more
# than LARGE_POINTS data points is large: a server process holds at most MAX_LARGE_SESSIONS of
# them at a time (another is told the server is busy).
MAX_POINTS = 200_000
MAX_STEPS = 20_000
REPLAY_WORK = 20_000_000
APP_HISTORY_BUDGET = 128 * 2**20
LARGE_POINTS = 50_000
MAX_LARGE_SESSIONS = 2
START_AGAIN = "The new settings start again from θ⁰"    # a note until the next step
PICTURE_POINTS = 20_000      # past this many data points, a session's pictures are drawn off the event loop


class LargeSessions:
    """The large sessions of this server process (a weak set: a state that is gone holds none)."""

    def __init__(self, limit: int = MAX_LARGE_SESSIONS):
        self.limit = limit
        self._holders = weakref.WeakSet()

    def admit(self, holder, points: int) -> None:
        """Let `holder` hold data of `points` points, or raise ExplorerError (the server is busy)."""
        if points <= LARGE_POINTS or holder in self._holders:
            return
        if len(self._holders) >= self.limit:
            gc.collect()                # a state no page shows any more may wait for the collector
        if len(self._holders) >= self.limit:
            raise ExplorerError(
                f"the server is busy: it holds {len(self._holders)} sessions with more than "
                f"{LARGE_POINTS:,} data points, its limit; choose {LARGE_POINTS:,} points or fewer, "
                f"or try again in a few minutes")
        self._holders.add(holder)

    def release(self, holder) -> None:
        """`holder` holds no data any more (None, a screen that was never built, holds none)."""
        if holder is not None:          # WeakSet.discard(None) raises TypeError
            self._holders.discard(holder)

    def transfer(self, old, new) -> None:
        """`new` takes `old`'s place (a screen built aside, then adopted)."""
        if old in self._holders:
            self._holders.discard(old)
            self._holders.add(new)
        elif new in self._holders and data_points(new.model) <= LARGE_POINTS:
            self._holders.discard(new)

    def __len__(self):
        return len(self._holders)


LARGE_SESSIONS = LargeSessions()    # process-wide by nature: every session of this process counts


def data_points(model) -> int:
    """How many data points (rows) a model holds (0 if its data has no length)."""
    try:
        return len(getattr(model, "data", None))
    except TypeError:
        return 0


def plain_query(query: dict | None) -> dict:
    """A URL's query as key → text: a key given twice is its last value (Bokeh's session_args
    give lists of bytes)."""
    query = {k: ((v[-1] if v else "") if isinstance(v, list) else v) for k, v in (query or {}).items()}
    return {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in query.items()}


def heavy_link(query: dict) -> bool:
    """Whether opening a link takes long enough to be done off the event loop: many half steps
    to replay, or large synthetic data (a guess from the query alone, before anything is built)."""
    query = plain_query(query)
    try:
        steps = count_steps(query.get("steps", ""))
    except ExplorerError:
        steps = 0
    n = query.get("n", "")
    points = int(n) if query.get("data") == SYNTHETIC and n.isdigit() else 1_000     # built-in data: ~1,000 at most
    return points > PICTURE_POINTS or steps * points > 200_000      # about 0.2 s of half steps


def replay_limit(points: int) -> int:
    """The most half steps a link may replay on data of `points` points."""
    return max(1, min(MAX_STEPS, REPLAY_WORK // max(points, 1)))


# The settings in the order they are applied (a later one may depend on an earlier one), with
# their URL keys.
# What a lesson step's screen is, for every setting it does not name.
LESSON_DEFAULTS = {"model": "linkage", "family": "exact", "schedule": "em", "theta0": "", "seed": "0"}
MODEL_SETTINGS = ("model_name", "dataset", "option", "n_points", "data_seed", "separation")
SESSION_SETTINGS = ("family", "schedule", "step_size", "block_size", "block_order", "seed", "theta0", "frozen")
VIEW_SETTINGS = ("coordinate", "grid_size", "zoom", "trace_axis", "scale", "speed", "presenter", "shown")
PLOT_NAMES = ("data", "bound", "landscape", "trace", "identity", "readout")
URL_KEYS = {"model_name": "model", "dataset": "data", "option": "K", "n_points": "n", "data_seed": "dseed",
            "separation": "sep", "family": "family", "schedule": "schedule", "step_size": "eta",
            "block_size": "B", "block_order": "order", "seed": "seed", "theta0": "theta0", "frozen": "frozen",
            "coordinate": "coord", "grid_size": "grid", "zoom": "zoom", "trace_axis": "x", "scale": "scale",
            "speed": "speed", "presenter": "presenter", "shown": "show"}
VIEW_KEYS = frozenset(URL_KEYS[name] for name in VIEW_SETTINGS)     # how a screen is drawn, not what it is


class RunCancelled(Exception):
    """A run to convergence stopped by the user (Cancel)."""

    def __init__(self, iterations: int):
        super().__init__(f"cancelled after {iterations} iterations")
        self.iterations = iterations


class _Refusable:
    """A number whose range the state checks (`why_refused`), not param: a typed value out of
    range reaches the state, which refuses it in words and sets the box back to the session's
    value (param's own check raised in the widget's callback, and the box kept the typed value
    while the session kept the old one, without a word)."""

    def _validate_bounds(self, val, bounds, inclusive_bounds):
        return None


class RangedInteger(_Refusable, param.Integer):
    """An integer setting with a range the state checks."""


class RangedNumber(_Refusable, param.Number):
    """A number setting with a range the state checks."""


class ExplorerState(param.Parameterized):
    model_name = param.Selector(default="linkage", objects=["linkage"], label="Model")
    dataset = param.Selector(default=None, objects=[], label="Data")
    option = RangedInteger(default=2, bounds=(1, 8), label="Model option")
    n_points = RangedInteger(default=300, bounds=(10, MAX_POINTS), label=f"Synthetic N (10 to {MAX_POINTS:,})")
    data_seed = RangedInteger(default=0, bounds=(0, None), label="Synthetic data seed")
    separation = RangedNumber(default=3.0, bounds=(0.0, 10.0), step=0.5, label="Synthetic separation")
    family = param.Selector(default="exact", objects=list(FAMILIES), label="Family of q")
    schedule = param.Selector(default="em", objects=list(SCHEDULE_NAMES), label="Schedule")
    step_size = RangedNumber(default=0.2, bounds=(1e-6, 100.0), label="Gradient step size η (10⁻⁶ to 100)")
    block_size = RangedInteger(default=20, bounds=(1, 1_000_000), label="Incremental block size B (1 to N)")
    block_order = param.Selector(default="cyclic", objects=["cyclic", "random"], label="Block order")
    seed = RangedInteger(default=0, bounds=(0, 2**31 - 1), label="Initial θ seed (0 to 2³¹ − 1)")
    theta0 = param.String(default="", label="Initial θ (JSON, any subset of keys)")
    frozen = param.ListSelector(default=[], objects=[], label="Frozen parameters")
    coordinate = param.Selector(default=None, objects=[], label="θ coordinate in the plots")
    grid_size = RangedInteger(default=40, bounds=(10, 120), label="Landscape grid points")
    zoom = param.Boolean(default=True, label="Zoom to the path")
    trace_axis = param.Selector(default="half step", objects=["half step", "passes through the data"],
                                label="Trace against")
    compared = param.ListSelector(default=["em", "incremental"], objects=list(SCHEDULE_NAMES),
                                  label="Schedules to compare")
    scale = param.Integer(default=100, bounds=(100, 200), step=10, label="Text and plot scale (%)")
    svg = param.Boolean(default=False, label="Draw the plots as SVG (each plot's save button then writes SVG, "
                                             "not PNG)")
    speed = param.Number(default=2.0, bounds=(0.5, 10.0), step=0.5, label="Play speed (half steps/s)")
    presenter = param.Boolean(default=False, label="Presenter layout (key f): sidebar folded, the chosen plots large")
    shown = param.ListSelector(default=["bound", "landscape", "readout"], objects=list(PLOT_NAMES),
                               label="Plots in the presenter layout")
    restart_count = RangedInteger(default=20, bounds=(1, MAX_STARTS), label="Starts (R)")
    preset_name = param.Selector(default="", objects=[""] + list(PRESETS), label="Preset (the literature)")
    lesson_name = param.Selector(default="", objects=[""] + available_lessons(), label="Lesson")
    lesson_step = param.Integer(default=0, bounds=(0, None), doc="The lesson step on screen (0 = the first).")

    message = param.String(default="", doc="The last error, for the banner ('' when all is well).")
    details = param.String(default="", doc="A traceback or more about the message.")
    notes = param.List(default=[], doc="Things a user should know, e.g. URL values that were ignored.")
    revision = param.Integer(default=0, doc="+1 after each step or move in the history.")
    running = param.String(default="", doc="A long action running off the event loop ('' when none).")
    model_revision = param.Integer(default=0, doc="+1 when the model or its data changed (new figures).")

    def __init__(self, model: Model | type | str | None = None, data=None, query: dict | None = None,
                 max_upload_bytes: int = MAX_UPLOAD_BYTES, **settings):
        """model: a built-in's name, a user's class or `path/to/file.py:Class`, or a model
        instance (bound to its data); data: data for a class, or new data for an instance;
        query: a URL's query (strings), applied after `settings`."""
        super().__init__()
        self.max_upload_bytes = int(max_upload_bytes)
        self.background = None           # runs a long action off the event loop (served: the step bar's)
        self.against_models = {}         # second implementations given on the server's command line
        self._models = dict(available_models())
        self._custom = None
        self._uploaded = None            # (filename, header, values)
        self._applying = False
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
        chosen = settings.pop("model_name", model or "linkage")
        if chosen not in self._models:
            raise ExplorerError(f"unknown model {chosen!r} (models: {', '.join(self._models)})")
        self.param.model_name.objects = list(self._models)
        self.comparison = None
        self.schedule_runs = None
        self.restarts = None         # run_restarts' result: the local optima from many starts
        self.basins = None           # a basins map over two coordinates
        self.preset_rows = []        # the open preset's table: ours beside the published numbers
        self.schedules_left_out = {}
        self.activity = ""           # what the last action did beyond a step (a run's outcome)
        self._window = None
        self._picture = None
        self._path_memo = PathMemo()     # the landscape path, kept between steps
        with self._quiet():
            self.model_name = chosen
        for name, value in settings.items():      # Python's callers' ranges (controls and links: _refused, apply_query)
            why = self.why_refused(name, value, self._models[chosen]) if isinstance(self.param[name], _Refusable) else ""
            if why:
                raise ExplorerError(f"{name}={value!r}: {why}")
        self._build({"model_name": chosen, **settings}, first=True)
        self.param.lesson_name.objects = [""] + available_lessons()     # a teacher's own folder too
        if query:
            try:
                self.apply_query(query)
            except Exception as exc:  # noqa: BLE001 - a link, whatever it holds, opens a page
                self._report(exc, "The link's settings could not all be applied")
        self.param.watch(self._on_settings, list(MODEL_SETTINGS + SESSION_SETTINGS))
        self.param.watch(self._on_view, ["coordinate", "grid_size", "zoom", "trace_axis"])
        self.param.watch(self._on_lesson_name, "lesson_name")
        self.param.watch(lambda e: self._applying or self._refused([e]), "restart_count")
        self.param.watch(self._on_preset_name, "preset_name")

    # ----- settings: validate and build, then swap in -----------------------------------------------
    @contextmanager
    def _quiet(self):
        """Set parameters without the watchers taking it for a user's change."""
        before, self._applying = self._applying, True
        try:
            yield
        finally:
            self._applying = before

    def _refused(self, events) -> bool:
        """Set back, with a message, a typed value out of its range; True if one was."""
        chosen = {e.name: e.new for e in events}.get("model_name", self.model_name)     # the model being opened
        cls = self._models.get(chosen)
        why = [(e, self.why_refused(e.name, e.new, cls)) for e in events if isinstance(self.param[e.name], _Refusable)]
        why = [(e, reason) for e, reason in why if reason]
        if not why:
            return False
        with self._quiet():
            self.param.update(**{e.name: e.old for e in events})
        event, reason = why[0]
        self.details = ""
        self.message = f"The value {number_text(event.new)} was not used (the session is unchanged): {reason}"
        return True

    def _on_settings(self, *events):
        if self._applying or self._refused(events):
            return
        changes = {e.name: e.new for e in events}
        old = {e.name: e.old for e in events}
        try:
            self._build(changes)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the state as it was
            with self._quiet():
                self.param.update(**old)
            if data_points(self.model) <= LARGE_POINTS:
                LARGE_SESSIONS.release(self)
            self._report(exc, "The change was not applied (the session is unchanged)")

    def _on_view(self, *events):
        if self._applying or self._refused(events):
            return
        if any(e.name == "grid_size" for e in events):
            self.calculator = landscape_calculator(self.model, self.family, self.grid_size)
        self._window = None
        self._touch()

    def set(self, **changes) -> bool:
        """Change settings at once (as the controls do, one by one); False if refused."""
        self.message = ""
        self.param.update(**changes)
        return not self.message

    def _build(self, changes: dict, first: bool = False):
        """Make the model (if its settings changed) and a new session from the settings with
        `changes` applied; raise before touching anything if they do not work together."""
        values = {name: getattr(self, name) for name in MODEL_SETTINGS + SESSION_SETTINGS + ("coordinate",)}
        values.update(changes)
        model_changed = first or any(name in changes for name in MODEL_SETTINGS)
        cls = self._models[values["model_name"]]     # the values' ranges are checked before (why_refused)
        new_model_class = first or cls is not type(self.model)
        datasets = self._dataset_options(cls)
        if new_model_class and "dataset" not in changes:
            values["dataset"] = GIVEN if self._custom is not None else (
                cls.default_dataset if cls.default_dataset in datasets else datasets[0])
        if values["dataset"] not in datasets:
            raise ExplorerError(f"model {cls.name} has no data set {values['dataset']!r} "
                                f"(data sets: {', '.join(datasets)})")
        option = cls.option_specs[0] if cls.option_specs else None
        if option is not None and new_model_class and "option" not in changes:
            values["option"] = option.default
        if model_changed and values["dataset"] == SYNTHETIC:      # before any memory is taken
            LARGE_SESSIONS.admit(self, values["n_points"])
        model = self._make_model(cls, values) if model_changed else self.model
        if model_changed:
            LARGE_SESSIONS.admit(self, data_points(model))
        families = families_for(model)
        if values["family"] not in families:
            if "family" in changes and not first:
                others = [f for f in FAMILIES if f not in families]
                raise ExplorerError(f"family {values['family']!r} is not available for model {model.name} "
                                    f"(its families: {', '.join(families)}; not for it: {', '.join(others)})")
            values["family"] = "exact"
        family = get_family(values["family"], model)
        runnable = schedules_for(model, family)
        if values["schedule"] not in runnable:
            if "schedule" in changes and not first:
                raise ExplorerError(why_not(values["schedule"], model, family))
            values["schedule"] = "em"
        frozen_options = list(model.spec()) + [k for k in coordinates(model.params())
                                                if k.split("[")[0] in model.entry_freezing]
        if new_model_class and "frozen" not in changes:
            values["frozen"] = sorted(model.default_frozen())
        unknown = [f for f in values["frozen"] if f not in frozen_options]
        if unknown:
            raise ExplorerError(f"cannot freeze {unknown[0]!r}: model {model.name} has "
                                f"{', '.join(frozen_options)}")
        if new_model_class and "theta0" not in changes:
            values["theta0"] = ""
        theta0 = self._start_values(values["theta0"], model)
        session = Session(model, theta0, family=family.name, frozen=frozenset(values["frozen"]),
                          seed=values["seed"], schedule=schedule_text(values), history_budget=APP_HISTORY_BUDGET)
        keys = coordinates(model.params())
        if values["coordinate"] not in keys:
            values["coordinate"] = first_coordinate(model, session.frozen)
        # everything works: swap it in
        with self._quiet():
            self.param.dataset.objects = datasets
            self.param.family.objects = families
            self.param.frozen.objects = frozen_options
            self.param.coordinate.objects = keys
            if option is not None:
                self.param.option.bounds = (option.minimum, option.maximum)
                # short: a slider's label is one line of the 300-px sidebar, with its value after it
                self.param.option.label = f"{option.name} ({option.minimum} to {option.maximum})"
                self.param.option.doc = option.help
            self.param.update(**{k: v for k, v in values.items() if getattr(self, k) != v})
        if model_changed or not hasattr(self, "calculator") or "family" in changes:
            self.calculator = landscape_calculator(model, family, self.grid_size)
        dropped = 0 if first or getattr(self, "session", None) is None else len(self.session.history) - 1
        self.model, self.session = model, session
        if dropped:         # said, not silent: a teacher switching the family mid-run lost the steps
            self.notes = self._notes_without(START_AGAIN) + [
                f"{START_AGAIN}: the {dropped} half step{'s' if dropped != 1 else ''} taken before are not "
                f"kept (Undo does not bring them back)"]
        if data_points(model) <= LARGE_POINTS:
            LARGE_SESSIONS.release(self)
        self.comparison = self.schedule_runs = self.restarts = self.basins = None
        self.preset_rows = []
        with self._quiet():
            self.preset_name = ""
        self.schedules_left_out = {}
        self._window = None
        self.message = self.details = ""
        if model_changed:
            self.model_revision += 1
        self._touch()

    def _dataset_options(self, cls) -> list[str]:
        if self._custom is not None:
            return [GIVEN]
        options = list(cls.datasets) + [SYNTHETIC]
        if self._uploaded is not None and self._fits(cls, {"option": self.option}):
            options.append(UPLOADED)
        return options

    def _fits(self, cls, values) -> bool:
        try:
            self._uploaded_model(cls, values)
            return True
        except Exception:  # noqa: BLE001 - does not fit this model: not offered
            return False

    def _options(self, cls, values) -> dict:
        option = cls.option_specs[0] if cls.option_specs else None
        return {} if option is None else {option.name: values["option"]}

    def _uploaded_model(self, cls, values):
        _, header, table = self._uploaded
        return self._model_from_table(cls, values, header, table)

    def _model_from_table(self, cls, values, header, table):
        options = self._options(cls, values)
        return cls(cls.data_from_table(header, table, **options), **options)

    def _make_model(self, cls, values) -> Model:
        if self._custom is not None:
            return self._custom
        options = self._options(cls, values)
        if values["dataset"] == SYNTHETIC:
            return make_model(cls, synthetic={"n": values["n_points"], "seed": values["data_seed"],
                                              "separation": values["separation"]}, **options)
        if values["dataset"] == UPLOADED:
            return self._uploaded_model(cls, values)
        return make_model(cls, data=values["dataset"], **options)

    @staticmethod
    def _start_values(text: str, model) -> dict | None:
        if text.strip():
            return parse_theta_json(text)
        return getattr(model, "reference_theta0", None)

    # ----- messages --------------------------------------------------------------------------------
    def _report(self, exc: Exception, context: str):
        if isinstance(exc, (ExplorerError, UserCodeError)):
            self.details = getattr(exc, "details", "")
            self.message = f"{context}: {exc}"
        else:
            details = user_traceback(exc)
            if "File " not in details:       # no frame of a user's model: show them all (of this
                details = "".join(traceback.format_exception(exc))   # exception: it may come from a thread)
            self.details = details
            self.message = f"{context}: {type(exc).__name__}: {exc}"

    def clear_message(self):
        self.message = self.details = ""

    def _act(self, action, context="The step failed (the session is unchanged)"):
        if self.running:
            self.message = f"{self.running} is still running: wait for it, or press Cancel."
            return None
        self.activity = ""
        try:
            result = action()
        except Exception as exc:  # noqa: BLE001 - nothing a user does may take the server down
            self._report(exc, context)
            return None
        self.message = self.details = ""
        if any(n.startswith(START_AGAIN) for n in self.notes):      # said once: the next step is on
            self.notes = self._notes_without(START_AGAIN)           # the new settings
        self._touch()
        return result

    def _notes_without(self, start: str) -> list:
        """The notes but those that begin with `start` (a note that a newer one replaces)."""
        return [n for n in self.notes if not n.startswith(start)]

    _batching, _batched = 0, False        # inside _one_change: a change waits to be shown once

    def _touch(self):
        """The screen changed: its picture is drawn again, and the viewers redraw (once, at the
        end of an enclosing `_one_change`)."""
        self._picture = None
        if self._batching:
            self._batched = True
        else:
            self.revision += 1

    @contextmanager
    def _one_change(self):
        """The changes made inside show as one: `revision` goes up once, at the end (a lesson's
        Next sets a model, resets and replays its steps: one redraw, not one per part)."""
        self._batching += 1
        try:
            yield
        finally:
            self._batching -= 1
            if not self._batching and self._batched:
                self._batched = False
                self.revision += 1

    def _job(self, label: str, compute, apply, context: str, then=None, cancellable: bool = False):
        """A long action: `compute(tick)` reads the session and changes nothing, so the app runs
        it off the event loop (`background`, set by the served app: its progress shown, other
        sessions keep their turn; a `cancellable` one calls `tick(i, n)` as it goes, which raises
        RunCancelled after Cancel); `apply(result)` then shows it, on the loop, and `then(value)`
        is told what `apply` returned. Without `background` (a script, a test) it runs at once
        and returns that value."""
        if self.running:
            self.message = f"{self.running} is still running: wait for it, or press Cancel."
            return None
        if self.background is not None:
            session = self.session

            def finish(result):
                if self.session is not session:       # the settings changed meanwhile: not for this screen
                    self.notes = self.notes + [f"{label}: set aside (the settings changed while it ran)"]
                    return None
                value = self._act(lambda: apply(result), context)
                if then is not None and value is not None:
                    then(value)
                return value
            self.background(label, compute, finish, lambda exc: self._report(exc, context), cancellable)
            return None
        value = self._act(lambda: apply(compute(lambda i, n: None)), context)
        if then is not None and value is not None:
            then(value)
        return value

    CHOICES = ("model_name", "dataset", "family", "frozen", "coordinate", "lesson_name")
    ADOPTED = ("_models", "_custom", "_uploaded", "model", "session", "calculator", "comparison", "schedule_runs",
               "restarts", "basins", "preset_rows", "schedules_left_out", "activity", "_window", "_picture",
               "_path_memo")

    def adopt(self, other: "ExplorerState"):
        """Take the screen of `other` (built off the event loop, e.g. from a heavy link): its
        models, settings, session and picture, as new figures, in one change."""
        with self._quiet():
            for name in self.CHOICES:
                self.param[name].objects = list(other.param[name].objects)
            self.param.option.bounds, self.param.option.label = other.param.option.bounds, other.param.option.label
            names = MODEL_SETTINGS + SESSION_SETTINGS + VIEW_SETTINGS + ("lesson_name", "lesson_step", "preset_name")
            self.param.update(**{n: getattr(other, n) for n in names if getattr(self, n) != getattr(other, n)})
        for name in self.ADOPTED:
            setattr(self, name, getattr(other, name))
        self._lesson = getattr(other, "_lesson", None)
        LARGE_SESSIONS.transfer(other, self)
        self.notes, self.details, self.message = other.notes, other.details, other.message
        self.model_revision += 1
        self.revision += 1              # the picture stays: it was drawn off the loop

    # ----- the actions ---------------------------------------------------------------------------
    def e_step(self):
        return self._act(self.session.e_step)

    def m_step(self):
        return self._act(self.session.m_step)

    def em_iteration(self):
        return self._act(self.session.iterate)

    def run_to_convergence(self, tol: float = 1e-8, max_iterations: int = 500):
        return self._act(lambda: self.converge(tol, max_iterations))

    def converge(self, tol: float = 1e-8, max_iterations: int = 500, progress=None, cancelled=None):
        """Iterate to convergence (Session.run) and say how it ended in `activity`; nothing on
        screen changes until the caller's `_act` (the app runs this off the event loop, then
        shows the result). `progress(iteration, state)` is told of each iteration; when
        `cancelled()` turns true the run stops there, keeping the iterations it took."""
        s = self.session

        def tick(iteration, state):
            if progress is not None:
                progress(iteration, state)
            if cancelled is not None and cancelled():
                raise RunCancelled(iteration)

        try:
            result = s.run(tol=tol, max_iterations=max_iterations, progress=tick)
        except RunCancelled as stop:
            self.activity = f"Run to convergence: cancelled after {stop.iterations} iterations."
            return None
        outcome = ("converged" if result.converged else "stalled (the gain fell below rounding)"
                   if result.stalled else "stopped before converging")
        self.activity = f"Run to convergence: {outcome} after {result.iterations} iterations (|Δ log p| ≤ {tol:g})."
        if result.converged and s.schedule_object.em_map and theta_size(s.current.theta) <= 60:
            rate = em_map_rate(s.model, s.current.theta, s.frozen, s.family_object)
            self.activity += (f" The EM map's rate at θ̂ (the largest fraction of missing information) "
                              f"is {rate:.4f}.")
        return result

    def undo(self):
        return self._act(self.session.undo)

    def redo(self):
        return self._act(self.session.redo)

    def go_to(self, index: int):
        return self._act(lambda: self.session.go_to(index))

    def reset(self):
        return self._act(lambda: self.session.reset(self.session.theta0, self.session.seed))

    def play_step(self) -> bool:
        """The schedule's next half step; False when Play should stop (converged, or an error)."""
        before = self.session.current
        state = self._act(self.session.step)
        if state is None:
            return False
        return not (state.kind == "M" and before.kind == "E" and not state.partial
                    and abs(state.loglik - before.loglik) <= CONVERGED)

    def randomize(self):
        """A new random seed for the start (the typed θ⁰ is cleared so the seed shows)."""
        return self.set(theta0="", seed=int(np.random.default_rng().integers(0, 10_000)))

    def compare_with_exact(self):
        if FAMILIES[self.family].closes_gap:
            return self._act(lambda: self._raise("choose a constrained family of q to compare with exact EM"),
                             "The comparison failed")
        model, family, s = self.model, self.family, self.session

        def apply(comparison):
            self.comparison, self._window = comparison, None
            return comparison
        return self._job("Comparing with exact EM",
                         lambda tick: compare_with_exact(model, family, s.theta0, s.frozen, s.seed), apply,
                         "The comparison failed")

    @staticmethod
    def _raise(message):
        raise ExplorerError(message)

    def compare_schedules(self, max_passes: float = 500.0):
        family = get_family(self.family, self.model)
        runnable = schedules_for(self.model, family)
        left_out = {name: why_not(name, self.model, family) for name in self.compared if name not in runnable}
        chosen = [schedule_text(self._values(), name) for name in self.compared if name in runnable]
        if not chosen:
            return self._act(lambda: self._raise("choose at least one schedule that runs here: " +
                                                 "; ".join(f"{k}: {v}" for k, v in left_out.items())),
                             "The comparison of schedules failed")
        model, s, family_name = self.model, self.session, self.family

        def apply(runs):
            self.schedule_runs, self.schedules_left_out = runs, left_out
            with self._quiet():
                self.trace_axis = "passes through the data"
            return runs
        return self._job("Comparing schedules",
                         lambda tick: compare_schedules(model, chosen, s.theta0, s.frozen, s.seed, family_name,
                                                   max_passes=max_passes), apply,
                         "The comparison of schedules failed")

    def run_restarts(self):
        """EM from `restart_count` seeded starts (seed, seed + 1, …): the distinct fixed points."""
        model, count, seed, family, frozen = self.model, self.restart_count, self.seed, self.family, self.session.frozen

        def apply(result):
            self.restarts = result
            return result
        return self._job("Restarts", lambda tick: run_restarts(model, count, seed=seed, family=family, frozen=frozen,
                                                               progress=tick),
                         apply, "The restarts failed", cancellable=True)

    def basins_keys(self) -> tuple[str, str]:
        """The map's two coordinates: the one in the plots, and the next free one (for a mixture's
        means[0], means[1])."""
        keys = [k for k in coordinates(self.model.params())
                if k.split("[")[0] not in self.session.frozen and k not in self.session.frozen]
        first = self.coordinate if self.coordinate in keys else keys[0]
        name = first.split("[")[0]
        same = [k for k in keys if k.split("[")[0] == name and k != first]
        others = [k for k in keys if k != first]
        if not others:
            raise ExplorerError("a basins map needs two free coordinates")
        return first, (same or others)[0]

    def run_basins(self, grid: int = 40):
        """Which fixed point EM reaches from each start on a grid over two coordinates (the
        rest of the current θ held)."""
        try:
            keys = self.basins_keys()
        except ExplorerError as exc:
            message = str(exc)       # said through _act, as every failure of an action is
            return self._act(lambda: self._raise(message), "The basins map failed")
        model, theta = self.model, dict(self.session.current.theta)

        def apply(result):
            self.basins = result
            return result
        return self._job("Basins map", lambda tick: basins(model, theta, keys, grid=grid, progress=tick), apply,
                         "The basins map failed", cancellable=not callable(getattr(model, "em_many", None)))

    def load_fixed_point(self, number: int):
        """Start the session from fixed point `number` (1 = the best) of the last restarts."""
        if self.restarts is None or not 1 <= number <= len(self.restarts.fixed_points):
            count = 0 if self.restarts is None else len(self.restarts.fixed_points)
            self.message = f"there is no fixed point {number} to load (run the restarts; they found {count})"
            return False
        theta = self.restarts.fixed_points[number - 1].theta
        restarts = self.restarts
        done = self.set(theta0=json.dumps(theta_to_json(theta)))
        self.restarts = restarts          # the table stays, so another can be loaded
        return done

    # ----- lessons ------------------------------------------------------------------------------
    @property
    def lesson(self):
        """The open lesson (explorer.lessons.Lesson), or None; its file is read once per opening,
        not at every step the lesson bar redraws."""
        if not self.lesson_name:
            return None
        if getattr(self, "_lesson", None) is None or self._lesson.name != self.lesson_name:
            self._lesson = load_lesson(self.lesson_name)
        return self._lesson

    def open_lesson(self, name: str, step: int = 0):
        """Open lesson `name` at `step` (0-based): its screen is set up and its caption shown."""
        try:
            lesson = self._lesson = load_lesson(name)      # read again: a teacher may have edited it
        except ExplorerError as exc:
            self.message = str(exc)
            return False
        with self._quiet():
            self.lesson_name = name
        return self.lesson_go(step, lesson)

    def lesson_go(self, step: int, lesson=None):
        """Show step `step` of the open lesson: the screen it names, from its start, with its
        steps taken (whatever the user did since is replaced; Back and Next come back to it)."""
        lesson = lesson or self.lesson
        if lesson is None:
            return False
        step = min(max(int(step), 0), len(lesson.steps) - 1)
        with self._one_change():
            self.show_screen(lesson.steps[step].screen)
            with self._quiet():
                self.lesson_step = step
            self._touch()                    # the caption changed even where the screen did not
        return True

    def show_screen(self, screen: dict):
        """Set up a screen named in the URL's words (a lesson step's or a preset's): the settings
        it names, the defaults for the rest, from the start, then its steps."""
        screen = {**LESSON_DEFAULTS, **screen}
        cls = self._models.get(screen["model"])
        with self._one_change():
            if cls is not None and cls is not type(self.model):     # built here, not through the watchers:
                try:                                                 # a page's link is read before they listen
                    self._build({"model_name": screen["model"]})
                except Exception as exc:  # noqa: BLE001 - the screen is left as it was, with the reason
                    self._report(exc, "This screen's model could not be set up")
                    return
            self.apply_query({k: v for k, v in screen.items() if k not in ("steps", "at")})
            self.reset()
            if screen.get("steps"):
                self.apply_query({k: screen[k] for k in ("steps", "at") if k in screen})

    def open_preset(self, name: str):
        """A figure or table of the literature: its screen, and ours beside the published numbers."""
        if name not in PRESETS:
            self.message = f"no preset {name!r} (presets: {', '.join(PRESETS)})"
            return False
        preset = PRESETS[name]
        with self._one_change():
            self.show_screen(preset.screen)
            with self._quiet():
                self.preset_name = name
            self.preset_rows = self._act(lambda: preset_rows(name, self.session), "The preset's table failed") or []
            self._touch()                    # its table is new even where the screen is not
        return True

    def _on_preset_name(self, event):
        if self._applying:
            return
        if event.new:
            self.open_preset(event.new)
        else:
            self.preset_rows = []
            self.revision += 1

    def _on_lesson_name(self, event):
        if self._applying:
            return
        if event.new:
            self.open_lesson(event.new)
        else:
            self.close_lesson()

    def lesson_next(self):
        return self.lesson_go(self.lesson_step + 1)

    def lesson_back(self):
        return self.lesson_go(self.lesson_step - 1)

    def close_lesson(self):
        with self._quiet():
            self.lesson_name, self.lesson_step = "", 0
        self.revision += 1

    def reload_model(self, model) -> bool:
        """A new version of the user's model (a class, or an instance bound to its data, after
        its file was saved): the same screen rebuilt on it (the settings and the steps taken,
        as the URL keeps them). If it cannot be built, or a step taken again raises, the last
        working model stays, and `message` shows why with the user's own frames."""
        with self._one_change():       # one redraw at the end, with the picture drawn here
            return self._reload(model)

    def _reload(self, model) -> bool:
        query = self.to_query()
        code = query.pop("steps", "")
        steps, at = decode_steps(code, count_steps(code)), query.pop("at", None)      # the user's own steps
        query.pop("model", None)
        if model.name != self.model_name:     # another model (the page fell back to linkage): its own screen
            query, steps, at = {}, [], None
        models, custom = dict(self._models), self._custom
        previous = (self.model, self.session, self.calculator, self.model_name)
        try:
            if isinstance(model, Model):
                self._custom = model
                self._models = {model.name: type(model)}
            else:
                self._models = {**{k: v for k, v in models.items() if v is not type(self.model)}, model.name: model}
            self.param.model_name.objects = list(self._models)
            with self._quiet():
                self.model_name = model.name
            self._build({"model_name": model.name}, first=True)
            self.apply_query({**query, "model": model.name})
            for kind in steps:           # not through apply_query: a step that raises keeps the old model
                self.session.e_step() if kind == "E" else self.session.m_step()
            if at is not None:
                self.session.go_to(int(at))
            drawn = self.picture_job()()      # a picture that cannot be drawn keeps the old model too
        except Exception as exc:  # noqa: BLE001 - a broken save must not take the page down
            self._models, self._custom = models, custom
            self.param.model_name.objects = list(models)
            with self._quiet():
                self.model_name = previous[3]
            self.model, self.session, self.calculator = previous[:3]
            self._report(exc, "The saved model could not be used (the last working version stays)")
            self._touch()
            return False
        self.notes = self._notes_without("Reloaded") + [
            f"Reloaded {model.name} from its file; the {len(steps)} steps were taken again."]
        self.message = self.details = ""      # the error of an earlier broken save is over
        self._touch()
        self.keep_picture(drawn)              # the redraw, at the end of _one_change, shows it
        return True

    def run_checks(self, then=None):
        """The EM debugger on the current model (explorer.core.checks); the report, or None
        (`then(report)` is told it, also when it ran off the event loop)."""
        model, seed = self.model, self.seed
        return self._job("The checks", lambda tick: check_model(model, seed=seed), lambda report: report,
                         "The checks could not run", then)

    def second_implementations(self) -> list[str]:
        """The models that can be held against this one: the same parameters (names and shapes)
        on the same data (the built-in models, and any given with `--args --against`)."""
        built_in = set(available_models().values())
        if type(self.model) in built_in and not self.against_models:
            return []           # two built-ins agree (their tests say so): nothing to look at here
        spec = [(p.name, tuple(p.shape)) for p in self.model.params()]
        found = []
        for name, cls in {**available_models(), **self.against_models}.items():
            if cls is type(self.model):
                continue
            try:
                other = cls(np.asarray(self.model.data))
                if [(p.name, tuple(p.shape)) for p in other.params()] == spec:
                    found.append(name)
            except Exception:  # noqa: BLE001 - a model that cannot take these data is not offered
                continue
        return found

    def compare_implementations(self, name: str, then=None):
        """`check --against` in the app: log p, the posterior and the M step of this model and
        of `name`'s on the same data and θs, with the first coordinate where they disagree."""
        cls = {**available_models(), **self.against_models}.get(name)
        if cls is None:
            self.message = f"no model {name!r} to compare with"
            return None
        model, seed = self.model, self.seed
        return self._job("Comparing the implementations",
                         lambda tick: compare_implementations(model, cls(np.asarray(model.data)), seed=seed),
                         lambda report: report, "The comparison could not run", then)

    def refuse_upload(self, why: str):
        """A file the page refused before sending it (over the limit, not text): say why."""
        self.details = ""
        self.message = f"The upload was not used (the session is unchanged): {why}"

    def upload(self, filename: str, content: bytes | None) -> bool:
        """A user's CSV or .npy file (as the CLI's --data-file reads it): parsed and checked
        against the model before it replaces the data (off the event loop when served)."""
        cls, values, name = self._models[self.model_name], self._values(), filename or "the upload"

        def read(tick):
            if not content:
                raise ExplorerError(f"{name}: the file is empty")
            if len(content) > self.max_upload_bytes:
                raise ExplorerError(f"{name}: {len(content) / 2**20:.1f} MB is over the "
                                    f"{self.max_upload_bytes / 2**20:.1f} MB limit for uploads on this server")
            header, table = table_from_bytes(content, name, missing_ok=cls.accepts_missing)
            if len(table) > MAX_POINTS:
                raise ExplorerError(f"{name}: {len(table):,} rows is more than the {MAX_POINTS:,} a session "
                                    f"holds on this server (the command line takes more: python -m explorer "
                                    f"trace --data-file)")
            self._model_from_table(cls, values, header, table)          # the model accepts it
            return header, table

        def use(parsed):
            previous, self._uploaded = self._uploaded, (filename, *parsed)
            try:
                self._build({"dataset": UPLOADED})
            except Exception:
                self._uploaded = previous
                raise
            self.notes = self._notes_without("Uploaded") + [
                f"Uploaded {filename}: {len(parsed[1])} rows."]
            return True
        return bool(self._job("Reading the upload", read, use, "The upload was not used (the session is unchanged)"))

    def _values(self) -> dict:
        return {name: getattr(self, name) for name in MODEL_SETTINGS + SESSION_SETTINGS}

    # ----- what the views draw -------------------------------------------------------------------
    @property
    def family_object(self):
        return get_family(self.family, self.model)

    @property
    def previous_state(self):
        s = self.session
        return s.history[s.position - 1] if s.position > max(s.earliest, 0) else None

    def fixed_points(self):
        if self.comparison is None:
            return ()
        key = self.coordinate
        return (("θ̂ exact EM", get_coordinate(self.comparison.exact.current.theta, key)),
                (f"θ̂ {self.comparison.family}", get_coordinate(self.comparison.constrained.current.theta, key)))

    def picture(self):
        """The picture of the current state (computed once per revision)."""
        if self._picture is None:
            self.keep_picture(self.picture_job()())
        return self._picture

    def picture_job(self):
        """The computation of the current state's picture, with what it reads taken now, so it
        can run off the event loop while the session goes on (`keep_picture` takes its result)."""
        session, coordinate, calculator, zoom = self.session, self.coordinate, self.calculator, self.zoom
        window, fixed, memo = self._window, self.fixed_points(), self._path_memo
        return lambda: picture(session, coordinate, calculator, zoom=zoom, previous_window=window,
                               fixed_points=fixed, memo=memo)

    def keep_picture(self, drawn):
        self._picture, self._window = drawn, drawn.window

    @property
    def picture_is_heavy(self) -> bool:
        """Whether a picture takes long enough to be drawn off the event loop (its landscape
        is a grid of E steps over all the data)."""
        return data_points(self.model) > PICTURE_POINTS

    # ----- the URL -------------------------------------------------------------------------------
    def history_code(self) -> str:
        return encode_steps([s.kind for s in self.session.history[1:]])

    def to_query(self) -> dict[str, str]:
        """The settings that differ from the defaults, the steps and the timeline position (and
        the lesson and its step, when one is open)."""
        out = {"lesson": self.lesson_name, "ls": str(self.lesson_step + 1)} if self.lesson_name else {}
        for name in MODEL_SETTINGS + SESSION_SETTINGS + VIEW_SETTINGS:
            value = getattr(self, name)
            if name == "option" and not self.model.option_specs:
                continue
            if name in ("n_points", "data_seed", "separation") and self.dataset != SYNTHETIC:
                continue
            default = self.param[name].default
            if name in ("dataset", "option", "frozen", "coordinate") or value != default:
                out[URL_KEYS[name]] = to_text(value)
        steps = self.history_code()
        if steps:
            out["steps"] = steps
            out["at"] = str(self.session.position)
        return out

    def why_refused(self, name: str, value, cls=None) -> str:
        """Why setting `name` cannot take `value` (in the words of its label), or '' if it can:
        a number outside its range, or a choice that is not one of the choices. The ranges and
        choices that depend on the model are those of `cls` (the model being opened; default:
        the one on screen); the data set and frozen parameters are checked by `_build`."""
        cls = cls or type(self.model)
        parameter = self.param[name]
        label = setting_label(self, name)
        if isinstance(parameter, param.Number):
            low, high = parameter.bounds or (None, None)
            if name == "option":
                if not cls.option_specs:
                    return f"model {cls.name} has no option to set"
                spec = cls.option_specs[0]
                low, high, label = spec.minimum, spec.maximum, f"{spec.name} ({spec.help})"
            if name == "block_size":
                high = data_points(getattr(self, "model", None)) or high
            if isinstance(parameter, param.Integer) and value != int(value):
                return f"{label} is a whole number"
            if (low is not None and value < low) or (high is not None and value > high):
                return (f"{label} is from {number_text(low)} to "
                        f"{number_text(high) if high is not None else 'any number'}")
            return ""
        if name in ("dataset", "frozen") or not isinstance(parameter, (param.Selector, param.ListSelector)):
            return ""
        choices = (list(FAMILIES) if name == "family" else
                   coordinates(self.model.params()) if name == "coordinate" else list(parameter.objects))
        values = value if isinstance(parameter, param.ListSelector) else [value]
        unknown = [v for v in values if v not in choices]
        if unknown:
            return f"{quoted(str(unknown[0]))} is not a choice of {label} (choices: {', '.join(map(str, choices))})"
        return ""

    def replay(self, code: str, at: str | None = None, progress=None, cancelled=None) -> list[str]:
        """Take the half steps of `code` (a link's `steps=`) from the current state, then go to
        state `at`; the notes on what could not be done. At most `replay_limit` half steps for
        this data (the session's budget). `progress(i, n)` is told of each; when `cancelled()`
        turns true the replay stops there, keeping the steps taken."""
        notes = []
        try:
            asked = count_steps(code)
        except ExplorerError as exc:
            return [f"steps: {exc} (no steps replayed)"]
        limit = replay_limit(data_points(self.model))
        kinds = decode_steps(code, limit)
        if asked > limit:
            notes.append(f"steps: the link asks for {asked:,} half steps; a session replays at most {limit:,} "
                         f"on {data_points(self.model):,} data points (the session's budget), so the first "
                         f"{limit:,} were taken")
        for i, kind in enumerate(kinds):
            if cancelled is not None and cancelled():
                notes.append(f"steps: cancelled after {i} of {len(kinds)} half steps")
                return notes
            if progress is not None:
                progress(i, len(kinds))
            try:
                self.session.e_step() if kind == "E" else self.session.m_step()
            except Exception as exc:  # noqa: BLE001
                notes.append(f"steps: step {i + 1} ({kind}) failed: {exc}; replayed {i} of {len(kinds)}")
                return notes
        if at is not None:
            last = len(self.session.history) - 1
            if not at.isdigit():
                notes.append(f"at={quoted(at)} (ignored): not a state number")
            elif not self.session.earliest <= int(at) <= last:
                self.session.go_to(int(at))
                notes.append(f"at={quoted(at)}: the states go from {self.session.earliest} to {last}, so state "
                             f"{self.session.position} is shown")
            else:
                self.session.go_to(int(at))
        return notes

    def apply_query(self, query: dict, progress=None, cancelled=None):
        """Settings, steps and position from a URL's query. A value that cannot be used is
        skipped with a note; the rest still apply. `progress` and `cancelled` are `replay`'s.
        The view settings (scale, presenter, ...) change how a screen is drawn, not what it is:
        they are taken off first and applied last, on whatever screen the rest opened (a
        lesson's step, a preset, or the settings given)."""
        query = plain_query(query)
        view = {k: query.pop(k) for k in list(query) if k in VIEW_KEYS}
        notes, kept = self._open_query(query, progress, cancelled)
        self._apply_settings(view, notes)
        self.notes = (self.notes if kept else []) + notes
        self._window = None
        self._touch()

    def _open_query(self, query: dict, progress, cancelled) -> tuple[list, bool]:
        """What a query's screen is (all but its view settings): its notes, and whether a
        lesson or preset opened it (its own notes kept)."""
        notes = []
        if "preset" in query:
            name = query.pop("preset")
            if name not in PRESETS:
                notes.append(f"preset={quoted(name)} (ignored): not a preset here (presets: {', '.join(PRESETS)})")
            elif not set(query) - {"theme"}:          # a preset's link
                self.open_preset(name)
                return notes, True
        if "lesson" in query:
            name, asked = query.pop("lesson"), query.pop("ls", "1")
            step = int(asked) - 1 if asked.isdigit() and int(asked) >= 1 else 0
            if name not in available_lessons():
                notes.append(f"lesson={quoted(name)} (ignored): not a lesson here (lessons: "
                             f"{', '.join(available_lessons())})")
            else:
                try:
                    count = len(load_lesson(name).steps)
                except ExplorerError as exc:
                    count, step = 1, 0
                    notes.append(f"lesson={quoted(name)}: {exc}")
                if not asked.isdigit() or not 1 <= int(asked) <= count:
                    notes.append(f"ls={quoted(asked)}: lesson {name} has steps 1 to {count}, so step "
                                 f"{min(step, count - 1) + 1} is shown")
                if not set(query) - {"theme"}:   # a lesson's link: its step sets the screen
                    self.open_lesson(name, step)
                    return notes, True
                with self._quiet():                       # a copied screen inside a lesson
                    self.lesson_name = name
                    self.lesson_step = min(step, count - 1)
        if "model" in query and query["model"] not in self._models:
            notes.append(f"model={quoted(query['model'])} (ignored): not a model here (models: {', '.join(self._models)})")
            query = {"model": self.model_name}
        self._apply_settings(query, notes)
        if "steps" in query:
            notes += self.replay(query["steps"], query.get("at"), progress, cancelled)
        return notes, False

    def _apply_settings(self, query: dict, notes: list):
        """The settings a query names (URL keys → values), each checked; one that cannot be used
        is skipped with a note added to `notes`."""
        settings, typed, by_key = {}, {}, {v: k for k, v in URL_KEYS.items()}
        for key, text in query.items():
            if key in ("steps", "at", "theme"):
                continue
            name = by_key.get(key)
            if name is None:
                if self.model.option_specs and key == self.model.option_specs[0].name:
                    name = "option"
                else:
                    notes.append(f"{quoted(key)[1:-1]}= (ignored): not a setting of the app")
                    continue
            try:
                settings[name], typed[name] = from_text(self.param[name], text), f"{key}={quoted(text)}"
            except (ValueError, TypeError):
                notes.append(f"{key}={quoted(text)} (ignored): {setting_label(self, name)} takes "
                             f"{TAKES.get(type(self.param[name]), 'a number')}")
        opened = self._models[settings.get("model_name", self.model_name)]
        for group in (MODEL_SETTINGS, SESSION_SETTINGS, VIEW_SETTINGS):
            chosen = {k: v for k, v in settings.items() if k in group}
            for name, value in chosen.items():      # checked against the model being opened
                why = self.why_refused(name, value, opened)
                if why:
                    notes.append(f"{typed[name]} (ignored): {why}")
                    settings.pop(name)
            chosen = {k: v for k, v in settings.items() if k in group}
            if group is MODEL_SETTINGS and all(getattr(self, k) == v for k, v in chosen.items()):
                chosen = {}       # the same model and data keep their figures (a lesson's steps);
                # a new model takes every value named (K=2 that equalled the old model's K was
                # dropped, and bernoulli-mixture opened with its own default K=3)
            if not chosen:
                continue
            if group is VIEW_SETTINGS:
                with self._quiet():
                    for name, value in chosen.items():
                        if name == "coordinate" and value not in self.param.coordinate.objects:
                            notes.append(f"coord={value!r} is not a coordinate of model {self.model.name} (ignored)")
                            continue
                        try:
                            self.param.update(**{name: value})
                        except ValueError as exc:
                            notes.append(f"{typed[name]} (ignored): {exc}")
                if "grid_size" in chosen:
                    self.calculator = landscape_calculator(self.model, self.family_object, self.grid_size)
                continue
            try:
                self._build(chosen)
            except Exception:  # noqa: BLE001 - try them one by one, keep those that work
                for name, value in chosen.items():
                    try:
                        self._build({name: value})
                    except Exception as exc:  # noqa: BLE001
                        notes.append(f"{typed[name]} (ignored): {exc}")


# ----- pieces ----------------------------------------------------------------------------------
TAKES = {param.Boolean: "0 or 1", param.Integer: "a whole number", param.Number: "a number"}


def number_text(value) -> str:
    """A number as a user reads it: 200,000; 1e-06; 2.5."""
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def quoted(text: str, limit: int = 60) -> str:
    """A value from a link, quoted for a note (a long one cut, so the notes stay readable)."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def setting_label(state, name: str) -> str:
    """A setting's label as the page shows it, without the range it may carry in parentheses."""
    return re.sub(r"\s*\([^()]*\d[^()]*\)$", "", state.param[name].label or name)


def theta_size(theta: dict) -> int:
    return int(theta_vector(theta).size)


def schedule_text(values: dict, name: str | None = None) -> str:
    """The schedule string of core.schedules from the app's settings."""
    return SCHEDULES[name or values["schedule"]].spell(values)


def encode_steps(kinds: list[str]) -> str:
    """Half steps as runs of iterations: ["E","M","E","M","E"] → "EM2E". An iteration is an E
    step and the M steps after it (or M steps before any E step)."""
    units, out = re.findall(r"M+|EM*", "".join(kinds)), []
    i = 0
    while i < len(units):
        j = i
        while j < len(units) and units[j] == units[i]:
            j += 1
        out.append(units[i] + (str(j - i) if j - i > 1 else ""))
        i = j
    return "".join(out)


STEP_RUN = re.compile(r"(M+|EM*)(\d*)")


def step_runs(code: str) -> list[tuple[str, int]]:
    """"EM12E" → [("EM", 12), ("E", 1)]. Read run by run (greedy, no backtracking: the nested
    pattern ((M+|EM*)[0-9]*)* takes exponential time on "MMM…MX", 2 s for 24 Ms)."""
    runs, end = [], 0
    for match in STEP_RUN.finditer(code or ""):
        if match.start() != end:
            break
        runs.append((match.group(1), int(match.group(2)) if match.group(2) else 1))
        end = match.end()
    if end != len(code or ""):
        raise ExplorerError(f"cannot read {quoted(code, 40)}: write steps like EM12E")
    return runs


def count_steps(code: str) -> int:
    """How many half steps `code` asks for."""
    return sum(len(unit) * n for unit, n in step_runs(code))


def decode_steps(code: str, limit: int = MAX_STEPS) -> list[str]:
    """The half steps of `code`, the first `limit` of them."""
    kinds = []
    for unit, n in step_runs(code):
        kinds.extend(list(unit) * min(n, (limit - len(kinds)) // len(unit) + 1))
        if len(kinds) >= limit:
            return kinds[:limit]
    return kinds


def to_text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return repr(value)
    return "" if value is None else str(value)


def from_text(parameter, text: str):
    """A URL string as the value a parameter takes (ValueError if it cannot be read)."""
    if isinstance(parameter, param.Boolean):
        if text not in ("0", "1", "true", "false"):
            raise ValueError(text)
        return text in ("1", "true")
    if isinstance(parameter, param.Integer):
        return int(text)
    if isinstance(parameter, param.Number):
        value = float(text)
        if not np.isfinite(value):
            raise ValueError(text)
        return value
    if isinstance(parameter, param.ListSelector):
        return [item for item in text.split(",") if item]
    return text
