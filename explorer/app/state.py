"""The app's state: the settings, the model and session they build, and the parts that act on
them, with no Panel in sight.

`ExplorerState` is the `Settings` (param parameters the widgets bind to) composed with a part
per concern:

    sources    where the model comes from (built-in, a user's class, an upload)   sources.py
    drawing    the picture of the screen, drawn once per revision                 drawing.py
    analyses   comparisons, restarts, basins, the debugger: each a result value    analyses.py
    player     the lesson or preset on screen                                      player.py
    links      the screen as a link (`explorer.screen`'s codec) and back           links.py

and the step actions. A change of settings is validated by building the new model and session
completely (building.plan) before anything is swapped in: if that fails, the settings are set
back, the session is untouched and `message` names the problem. The viewers only read the state
and redraw when `revision` (a step or a move in the history) or `model_revision` (new model and
data, so new figures) goes up. A long action runs off the event loop through `job`.
"""
from __future__ import annotations

import traceback
from contextlib import contextmanager

import numpy as np
import param

from ..core.errors import ExplorerError
from ..core.families import get_family
from ..core.loading import UserCodeError, user_traceback
from ..core.model import Model
from ..lessons import available_lessons
from ..screen import MODEL_SETTINGS, SESSION_SETTINGS
from . import user_files
from .analyses import Analyses
from . import budget
from .budget import LARGE_POINTS, data_points
from .building import plan
from .drawing import Drawing
from .links import Links
from .player import Player
from .settings import Settings, number_text
from .sources import MAX_UPLOAD_BYTES, MORE_OPTIONS, ModelSources, options_not_set
from .stepping import converge, play_goes_on

START_AGAIN = "The new settings start again from θ⁰"    # a note until the next step
BUSY = "{} is still running: wait for it, or press Cancel."


class ExplorerState(Settings):
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
        self.applying = False
        self.background = None           # runs a long action off the event loop (served: the step bar's)
        self.sources = ModelSources(model, data, max_upload_bytes)
        self.analyses, self.player, self.links = Analyses(self), Player(self), Links(self)
        self.drawing = Drawing(self)
        chosen = settings.pop("model_name", self.sources.first)
        if chosen not in self.sources.models:
            raise ExplorerError(f"unknown model {chosen!r} (models: {', '.join(self.sources.models)})")
        self.param.model_name.objects = list(self.sources.models)
        self.activity = ""           # what the last action did beyond a step (a run's outcome)
        self.model = self.session = None
        with self.quiet():
            self.model_name = chosen
        for name, value in settings.items():      # Python's callers' ranges (controls and links: _refused)
            why = self.why_refused(name, value, self.sources.models[chosen]) if self.refusable(name) else ""
            if why:
                raise ExplorerError(f"{name}={value!r}: {why}")
        self.build({"model_name": chosen, **settings}, first=True)
        self.param.lesson_name.objects = [""] + available_lessons()     # a teacher's own folder too
        if query:
            try:
                self.links.apply(query)
            except Exception as exc:  # noqa: BLE001 - a link, whatever it holds, opens a page
                self.report(exc, "The link's settings could not all be applied")
        self.param.watch(self._on_settings, list(MODEL_SETTINGS + SESSION_SETTINGS))
        self.param.watch(self._on_view, ["coordinate", "grid_size", "zoom", "trace_axis"])
        self.param.watch(self.player.on_lesson_name, "lesson_name")
        self.param.watch(lambda e: self.applying or self._refused([e]), "restart_count")
        self.param.watch(self.player.on_preset_name, "preset_name")

    # ----- settings: validate and build, then swap in -----------------------------------------------
    @contextmanager
    def quiet(self):
        """Set parameters without the watchers taking it for a user's change."""
        before, self.applying = self.applying, True
        try:
            yield
        finally:
            self.applying = before

    def _refused(self, events) -> bool:
        """Set back, with a message, a typed value out of its range; True if one was."""
        chosen = {e.name: e.new for e in events}.get("model_name", self.model_name)     # the model being opened
        cls = self.sources.models.get(chosen)
        why = [(e, self.why_refused(e.name, e.new, cls)) for e in events if self.refusable(e.name)]
        why = [(e, reason) for e, reason in why if reason]
        if not why:
            return False
        with self.quiet():
            self.param.update(**{e.name: e.old for e in events})
        event, reason = why[0]
        self.details = ""
        self.message = f"The value {number_text(event.new)} was not used (the session is unchanged): {reason}"
        return True

    def _on_settings(self, *events):
        if self.applying or self._refused(events):
            return
        try:
            self.build({e.name: e.new for e in events})
        except Exception as exc:  # noqa: BLE001 - any failure leaves the state as it was
            with self.quiet():
                self.param.update(**{e.name: e.old for e in events})
            if data_points(self.model) <= LARGE_POINTS:
                budget.LARGE_SESSIONS.release(self)
            self.report(exc, "The change was not applied (the session is unchanged)")

    def _on_view(self, *events):
        if self.applying or self._refused(events):
            return
        if any(e.name == "grid_size" for e in events):
            self.drawing.new_calculator()
        self.drawing.forget_window()
        self.touch()

    def set(self, **changes) -> bool:
        """Change settings at once (as the controls do, one by one); False if refused."""
        self.message = ""
        self.param.update(**changes)
        return not self.message

    def values(self) -> dict:
        """The model and session settings."""
        return {name: getattr(self, name) for name in MODEL_SETTINGS + SESSION_SETTINGS}

    def build(self, changes: dict, first: bool = False):
        """The screen of the settings with `changes` applied (building.plan), swapped in; raise
        before touching anything if they do not work together."""
        built = plan(self, changes, first)
        with self.quiet():
            self.param.dataset.objects = built.datasets
            self.param.family.objects = built.families
            self.param.frozen.objects = built.frozen_options
            self.param.coordinate.objects = built.coordinates
            if built.option is not None:
                option = built.option
                self.param.option.bounds = (option.minimum, option.maximum)
                # short: a slider's label is one line of the 300-px sidebar, with its value after it
                self.param.option.label = f"{option.name} ({option.minimum} to {option.maximum})"
                self.param.option.doc = option.help
            self.param.update(**{k: v for k, v in built.values.items() if getattr(self, k) != v})
        dropped = 0 if first or self.session is None else len(self.session.history) - 1
        self.model, self.session = built.model, built.session
        if built.model_changed or self.drawing.calculator is None or "family" in changes:
            self.drawing.new_calculator()
        if dropped:         # said, not silent: a teacher switching the family mid-run lost the steps
            self.notes = self.notes_without(START_AGAIN) + [
                f"{START_AGAIN}: the {dropped} half step{'s' if dropped != 1 else ''} taken before are not "
                f"kept (Undo does not bring them back)"]
        if built.model_changed:
            self.notes = self.notes_without(MORE_OPTIONS) + options_not_set(self.model)
        if data_points(self.model) <= LARGE_POINTS:
            budget.LARGE_SESSIONS.release(self)
        self.analyses.clear()
        self.player.preset_rows = []
        with self.quiet():
            self.preset_name = ""
        self.drawing.forget_window()
        self.message = self.details = ""
        if built.model_changed:
            self.model_revision += 1
        self.touch()

    # ----- messages and actions ----------------------------------------------------------------
    def report(self, exc: Exception, context: str):
        """Say that an action failed: `message` in words, `details` the model's own frames."""
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

    def act(self, action, context="The step failed (the session is unchanged)"):
        """Do `action` and show what it changed; a failure is reported, never raised."""
        if self.running:
            self.message = BUSY.format(self.running)
            return None
        self.activity = ""
        try:
            result = action()
        except Exception as exc:  # noqa: BLE001 - nothing a user does may take the server down
            self.report(exc, context)
            return None
        self.message = self.details = ""
        if any(n.startswith(START_AGAIN) for n in self.notes):      # said once: the next step is on
            self.notes = self.notes_without(START_AGAIN)            # the new settings
        self.touch()
        return result

    def notes_without(self, start: str) -> list:
        """The notes but those that begin with `start` (a note that a newer one replaces)."""
        return [n for n in self.notes if not n.startswith(start)]

    _batching, _batched = 0, False        # inside one_change: a change waits to be shown once

    def touch(self):
        """The screen changed: its picture is drawn again, and the viewers redraw (once, at the
        end of an enclosing `one_change`)."""
        self.drawing.forget()
        if self._batching:
            self._batched = True
        else:
            self.revision += 1

    @property
    def in_one_change(self) -> bool:
        """Inside a `one_change`: the viewers redraw once, at its end."""
        return self._batching > 0

    @contextmanager
    def one_change(self):
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

    def job(self, label: str, compute, apply, context: str, then=None, cancellable: bool = False):
        """A long action: `compute(tick)` reads the session and changes nothing, so the app runs
        it off the event loop (`background`, set by the served app: its progress shown, other
        sessions keep their turn; a `cancellable` one calls `tick(i, n)` as it goes, which raises
        RunCancelled after Cancel); `apply(result)` then shows it, on the loop, and `then(value)`
        is told what `apply` returned. Without `background` (a script, a test) it runs at once
        and returns that value."""
        if self.running:
            self.message = BUSY.format(self.running)
            return None
        if self.background is not None:
            session = self.session

            def finish(result):
                if self.session is not session:       # the settings changed meanwhile: not for this screen
                    self.notes = self.notes + [f"{label}: set aside (the settings changed while it ran)"]
                    return None
                value = self.act(lambda: apply(result), context)
                if then is not None and value is not None:
                    then(value)
                return value
            self.background(label, compute, finish, lambda exc: self.report(exc, context), cancellable)
            return None
        value = self.act(lambda: apply(compute(lambda i, n: None)), context)
        if then is not None and value is not None:
            then(value)
        return value

    # ----- the steps -----------------------------------------------------------------------------
    def e_step(self):
        return self.act(self.session.e_step)

    def m_step(self):
        return self.act(self.session.m_step)

    def em_iteration(self):
        return self.act(self.session.iterate)

    def run_to_convergence(self, tol: float = 1e-8, max_iterations: int = 500):
        return self.act(lambda: self.converge(tol, max_iterations))

    def converge(self, tol: float = 1e-8, max_iterations: int = 500, progress=None, cancelled=None):
        """Iterate to convergence (stepping.converge) and say how it ended in `activity`; nothing
        on screen changes until the caller's `act` (the app runs this off the event loop)."""
        result, self.activity = converge(self.session, tol, max_iterations, progress, cancelled)
        return result

    def undo(self):
        return self.act(self.session.undo)

    def redo(self):
        return self.act(self.session.redo)

    def go_to(self, index: int):
        return self.act(lambda: self.session.go_to(index))

    def reset(self):
        return self.act(lambda: self.session.reset(self.session.theta0, self.session.seed))

    def play_step(self) -> bool:
        """The schedule's next half step; False when Play should stop (converged, or an error)."""
        before = self.session.current
        state = self.act(self.session.step)
        return state is not None and play_goes_on(before, state)

    def randomize(self):
        """A new random seed for the start (the typed θ⁰ is cleared so the seed shows)."""
        return self.set(theta0="", seed=int(np.random.default_rng().integers(0, 10_000)))

    # ----- the user's model and data ---------------------------------------------------------------
    def reload_model(self, model) -> bool:
        """A new version of the user's model after its file was saved (user_files.reload), in
        one redraw at the end, with the picture drawn there."""
        with self.one_change():
            return user_files.reload(self, model)

    def refuse_upload(self, why: str):
        """A file the page refused before sending it (over the limit, not text): say why."""
        self.details = ""
        self.message = f"The upload was not used (the session is unchanged): {why}"

    def upload(self, filename: str, content: bytes | None) -> bool:
        """A user's CSV or .npy file as the data (user_files.upload)."""
        return user_files.upload(self, filename, content)

    # ----- what the views draw -------------------------------------------------------------------
    @property
    def family_object(self):
        return get_family(self.family, self.model)

    @property
    def previous_state(self):
        s = self.session
        return s.history[s.position - 1] if s.position > max(s.earliest, 0) else None
