"""The lesson and preset player: a lesson's steps or a preset of the literature, each a screen
in the words of `explorer.screen`, set up on the state from its start with its steps taken.
"""
from __future__ import annotations

from ..core.errors import ExplorerError
from ..lessons import load_lesson
from ..presets import PRESETS, rows as preset_rows
from ..screen import AUTHORED_DEFAULTS


class Player:
    """The open lesson (the state's `lesson_name` and `lesson_step` settings) or preset
    (`preset_name`, and `preset_rows`: its table of ours beside the published numbers)."""

    def __init__(self, state):
        self.state = state
        self.preset_rows = []
        self._lesson = None

    @property
    def lesson(self):
        """The open lesson (explorer.lessons.Lesson), or None; its file is read once per opening,
        not at every step the lesson bar redraws."""
        name = self.state.lesson_name
        if not name:
            return None
        if self._lesson is None or self._lesson.name != name:
            self._lesson = load_lesson(name)
        return self._lesson

    def open_lesson(self, name: str, step: int = 0):
        """Open lesson `name` at `step` (0-based): its screen is set up and its caption shown."""
        try:
            lesson = self._lesson = load_lesson(name)      # read again: a teacher may have edited it
        except ExplorerError as exc:
            self.state.message = str(exc)
            return False
        with self.state.quiet():
            self.state.lesson_name = name
        return self.lesson_go(step, lesson)

    def lesson_go(self, step: int, lesson=None):
        """Show step `step` of the open lesson: the screen it names, from its start, with its
        steps taken (whatever the user did since is replaced; Back and Next come back to it)."""
        state, lesson = self.state, lesson or self.lesson
        if lesson is None:
            return False
        step = min(max(int(step), 0), len(lesson.steps) - 1)
        with state.one_change():
            self.show_screen(lesson.steps[step].screen)
            with state.quiet():
                state.lesson_step = step
            state.touch()                    # the caption changed even where the screen did not
        return True

    def lesson_next(self):
        return self.lesson_go(self.state.lesson_step + 1)

    def lesson_back(self):
        return self.lesson_go(self.state.lesson_step - 1)

    def close_lesson(self):
        with self.state.quiet():
            self.state.lesson_name, self.state.lesson_step = "", 0
        self.state.revision += 1

    def show_screen(self, screen: dict):
        """Set up a screen named in the URL's words (a lesson step's or a preset's): the settings
        it names, the defaults for the rest, from the start, then its steps."""
        state, screen = self.state, {**AUTHORED_DEFAULTS, **screen}
        cls = state.sources.models.get(screen["model"])
        with state.one_change():
            if cls is not None and cls is not type(state.model):     # built here, not through the watchers:
                try:                                                  # a page's link is read before they listen
                    state.build({"model_name": screen["model"]})
                except Exception as exc:  # noqa: BLE001 - the screen is left as it was, with the reason
                    state.report(exc, "This screen's model could not be set up")
                    return
            state.links.apply({k: v for k, v in screen.items() if k not in ("steps", "at")})
            state.reset()
            if screen.get("steps"):
                state.links.apply({k: screen[k] for k in ("steps", "at") if k in screen})

    def open_preset(self, name: str):
        """A figure or table of the literature: its screen, and ours beside the published numbers."""
        state = self.state
        if name not in PRESETS:
            state.message = f"no preset {name!r} (presets: {', '.join(PRESETS)})"
            return False
        with state.one_change():
            self.show_screen(PRESETS[name].screen)
            self.keep_preset(name)
        return True

    def keep_preset(self, name: str):
        """Preset `name`'s caption and table beside the screen (its own, or one a user reached
        from it and copied as a link)."""
        state = self.state
        with state.quiet():
            state.preset_name = name
        self.preset_rows = state.act(lambda: preset_rows(name, state.session), "The preset's table failed") or []
        state.touch()                    # its table is new even where the screen is not

    def close_preset(self):
        self.preset_rows = []
        self.state.revision += 1

    def on_preset_name(self, event):
        """The preset chosen in its menu (watched by the state)."""
        self._chosen(event, self.open_preset, self.close_preset)

    def on_lesson_name(self, event):
        """The lesson chosen in its menu (watched by the state)."""
        self._chosen(event, self.open_lesson, self.close_lesson)

    def _chosen(self, event, open_it, close):
        """A menu's choice by the user (not the state's own setting of it): open it, or close."""
        if not self.state.applying:
            open_it(event.new) if event.new else close()
