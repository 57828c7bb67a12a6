"""The screen and the page's address: the state as a `Screen` (`explorer.screen`'s codec), and
a link's screen applied to the state.

A value a link gives that cannot be used is skipped with a note in the user's words; the rest
still apply. Replaying a link's half steps rebuilds the same states to the last digit.
"""
from __future__ import annotations

from types import MappingProxyType

from ..core.errors import ExplorerError
from ..lessons import available_lessons, load_lesson
from ..presets import PRESETS
from ..screen import (MODEL_SETTINGS, SESSION_SETTINGS, VIEW_KEYS, VIEW_SETTINGS, Screen, count_steps,
                      decode_steps, encode_steps, plain_query, quoted)
from .budget import SYNTHETIC, data_points, replay_limit
from .settings import setting_label

OPTIONAL = ("dataset", "option", "frozen", "coordinate")      # always written: they depend on the model


class Links:
    """The screen of `state`, to and from the words of a link."""

    def __init__(self, state):
        self.state = state

    def screen(self) -> Screen:
        """What is on screen: the settings that differ from the defaults (and those that depend
        on the model), the steps taken, the timeline position, the lesson and its step."""
        state, settings = self.state, {}
        for name in MODEL_SETTINGS + SESSION_SETTINGS + VIEW_SETTINGS:
            value = getattr(state, name)
            if name == "option" and not state.model.option_specs:
                continue
            if name in ("n_points", "data_seed", "separation") and state.dataset != SYNTHETIC:
                continue
            if name in OPTIONAL or value != state.param[name].default:
                settings[name] = value
        steps = encode_steps([s.kind for s in state.session.history[1:]])
        return Screen(settings=MappingProxyType(settings), steps=steps,
                      at=str(state.session.position) if steps else None, preset=state.preset_name,
                      lesson=state.lesson_name, lesson_step=state.lesson_step if state.lesson_name else None)

    def query(self) -> dict[str, str]:
        """The screen in a link's words."""
        return self.screen().query()

    def apply(self, query: dict, progress=None, cancelled=None):
        """Settings, steps and position from a link's query. `progress` and `cancelled` are
        `replay`'s. The view settings (scale, presenter, ...) change how a screen is drawn, not
        what it is: they are taken off first and applied last, on whatever screen the rest
        opened (a lesson's step, a preset, or the settings given)."""
        state, query = self.state, plain_query(query)
        view = {k: query.pop(k) for k in list(query) if k in VIEW_KEYS}
        notes, kept = self._open(query, progress, cancelled)
        self._settings(view, notes)
        state.notes = (state.notes if kept else []) + notes
        state.drawing.forget_window()
        state.touch()

    def _open(self, query: dict, progress, cancelled) -> tuple[list, bool]:
        """What a query's screen is (all but its view settings): its notes, and whether a
        lesson or preset opened it (its own notes kept)."""
        state, notes, preset = self.state, [], ""
        if "preset" in query:
            preset = query.pop("preset")
            if preset not in PRESETS:
                notes.append(f"preset={quoted(preset)} (ignored): not a preset here (presets: {', '.join(PRESETS)})")
                preset = ""
            elif not set(query) - {"theme"}:          # a preset's link
                state.player.open_preset(preset)
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
                    state.player.open_lesson(name, step)
                    return notes, True
                with state.quiet():                       # a copied screen inside a lesson
                    state.lesson_name = name
                    state.lesson_step = min(step, count - 1)
        if "model" in query and query["model"] not in state.sources.models:
            notes.append(f"model={quoted(query['model'])} (ignored): not a model here "
                         f"(models: {', '.join(state.sources.models)})")
            query = {"model": state.model_name}
        self._settings(query, notes)
        if "steps" in query:
            notes += self.replay(query["steps"], query.get("at"), progress, cancelled)
        if preset:                   # a copied screen of a preset: its caption and table stay beside it
            state.player.keep_preset(preset)
        return notes, False

    def _settings(self, query: dict, notes: list):
        """The settings a query names, each checked; one that cannot be used is skipped with a
        note added to `notes`."""
        state = self.state
        options = state.model.option_specs
        screen, unread = Screen.read(query, option_name=options[0].name if options else None,
                                     words=lambda name: setting_label(state, name))
        notes += unread
        settings, said = dict(screen.settings), screen.said
        opened = state.sources.models[settings.get("model_name", state.model_name)]
        for group in (MODEL_SETTINGS, SESSION_SETTINGS, VIEW_SETTINGS):
            chosen = {k: v for k, v in settings.items() if k in group}
            for name, value in chosen.items():      # checked against the model being opened
                why = state.why_refused(name, value, opened)
                if why:
                    notes.append(f"{said[name]} (ignored): {why}")
                    settings.pop(name)
            chosen = {k: v for k, v in settings.items() if k in group}
            if group is MODEL_SETTINGS and all(getattr(state, k) == v for k, v in chosen.items()):
                chosen = {}       # the same model and data keep their figures (a lesson's steps);
                # a new model takes every value named (K=2 that equalled the old model's K was
                # dropped, and bernoulli-mixture opened with its own default K=3)
            if not chosen:
                continue
            if group is VIEW_SETTINGS:
                self._view(chosen, said, notes)
                continue
            try:
                state.build(chosen)
            except Exception:  # noqa: BLE001 - try them one by one, keep those that work
                for name, value in chosen.items():
                    try:
                        state.build({name: value})
                    except Exception as exc:  # noqa: BLE001
                        notes.append(f"{said[name]} (ignored): {exc}")

    def _view(self, chosen: dict, said: dict, notes: list):
        """View settings: how the screen is drawn (no new session)."""
        state = self.state
        with state.quiet():
            for name, value in chosen.items():
                if name == "coordinate" and value not in state.param.coordinate.objects:
                    notes.append(f"coord={value!r} is not a coordinate of model {state.model.name} (ignored)")
                    continue
                try:
                    state.param.update(**{name: value})
                except ValueError as exc:
                    notes.append(f"{said[name]} (ignored): {exc}")
        if "grid_size" in chosen:
            state.drawing.new_calculator()

    def replay(self, code: str, at: str | None = None, progress=None, cancelled=None) -> list[str]:
        """Take the half steps of `code` (a link's `steps=`) from the current state, then go to
        state `at`; the notes on what could not be done. At most `replay_limit` half steps for
        this data (the session's budget). `progress(i, n)` is told of each; when `cancelled()`
        turns true the replay stops there, keeping the steps taken."""
        session, notes = self.state.session, []
        try:
            asked = count_steps(code)
        except ExplorerError as exc:
            return [f"steps: {exc} (no steps replayed)"]
        points = data_points(self.state.model)
        limit = replay_limit(points)
        kinds = decode_steps(code, limit)
        if asked > limit:
            notes.append(f"steps: the link asks for {asked:,} half steps; a session replays at most {limit:,} "
                         f"on {points:,} data points (the session's budget), so the first "
                         f"{limit:,} were taken")
        for i, kind in enumerate(kinds):
            if cancelled is not None and cancelled():
                notes.append(f"steps: cancelled after {i} of {len(kinds)} half steps")
                return notes
            if progress is not None:
                progress(i, len(kinds))
            try:
                session.e_step() if kind == "E" else session.m_step()
            except Exception as exc:  # noqa: BLE001
                notes.append(f"steps: step {i + 1} ({kind}) failed: {exc}; replayed {i} of {len(kinds)}")
                return notes
        if at is not None:
            last = len(session.history) - 1
            if not at.isdigit():
                notes.append(f"at={quoted(at)} (ignored): not a state number")
            elif not session.earliest <= int(at) <= last:
                session.go_to(int(at))
                notes.append(f"at={quoted(at)}: the states go from {session.earliest} to {last}, so state "
                             f"{session.position} is shown")
            else:
                session.go_to(int(at))
        return notes
