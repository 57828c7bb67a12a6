"""The step bar: the step buttons, Play, the timeline, the keyboard shortcuts, and the long
jobs run off the event loop with their progress and Cancel."""
from __future__ import annotations

import html
import threading
import time

import panel as pn
import param

from .keyboard import SHORTCUTS, KeyboardShortcuts
from .pacing import Pacer
from .panel_speedup import QuickButton
from .state import ExplorerState
from .stepping import RunCancelled
from .viewer_tools import READOUT_CSS, held, in_background, scaled_text


class StepBar(pn.viewable.Viewer):
    """The step buttons, Play and the timeline."""

    state = param.ClassSelector(class_=ExplorerState)
    playing = param.Boolean(default=False)

    ACTIONS = (("E step", "e_step", "primary"), ("M step", "m_step", "primary"),
               ("EM iteration", "em_iteration", "primary"), ("Run to convergence", "run_to_convergence", "default"),
               ("Undo", "undo", "default"), ("Redo", "redo", "default"), ("Reset", "reset", "default"))
    # The presenter layout's bar is one row: shorter labels, and without what the keys do
    # (r redoes) or what a lecture rarely needs (Reset, the speed); the timeline joins the row.
    PRESENTER_LABELS = {"EM iteration": "EM", "Run to convergence": "Run"}
    PRESENTER_HIDDEN = ("Redo", "Reset")
    TIMELINE_LEAST = 180        # px at 100 %: the timeline takes the row's rest, or a row of its own

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
        self.timeline = pn.widgets.IntSlider(label="Timeline (state)", start=0, end=1, value=0, margin=(0, 12))
        self.timeline.param.watch(self._on_timeline, "value_throttled")
        self.pacer = Pacer(speed=self.state.speed)      # Play, paced by the page (pacing.py)
        self.pacer.param.watch(self._on_request, "requests")
        self.state.param.watch(lambda e: setattr(self.pacer, "speed", e.new), "speed")
        self.keys = KeyboardShortcuts(presenter=self.state.presenter)
        self.keys.param.watch(self._on_key, "presses")
        self.state.param.watch(lambda e: setattr(self.keys, "presenter", e.new), "presenter")
        rows = "".join(f"<tr><td><kbd>{html.escape(key)}</kbd></td><td>{html.escape(what)}</td></tr>"
                       for key, what in SHORTCUTS)
        # over the page's top right corner (in the flow it pushed the plots out of the window)
        self.help = pn.pane.HTML(f"<b>Keyboard</b> (not while typing in a box)<table>{rows}</table>",
                                 visible=False, stylesheets=[READOUT_CSS], margin=0, styles={
                                     "position": "fixed", "top": "72px", "right": "16px", "z-index": "30",
                                     "background": "Canvas", "color": "CanvasText", "padding": "8px 12px",
                                     "border": "1px solid rgba(128,128,128,.5)",
                                     "box-shadow": "0 3px 10px rgba(0,0,0,.35)"})
        # the buttons wrap onto a second line when the scale makes them wider than the window;
        # the timeline takes the rest of the last line, or a line of its own
        self.layout = pn.Column(pn.FlexBox(*self.buttons.values(), self.cancel, self.progress, self.play, self.speed,
                                           self.timeline, flex_wrap="wrap", align_items="center",
                                           sizing_mode="stretch_width", margin=0),
                                self.help, self.pacer, self.keys, sizing_mode="stretch_width", margin=0)
        self.state.param.watch(lambda *events: self.refresh(), ["revision", "running"])
        self.state.param.watch(lambda *events: self._scale(), ["scale", "presenter"])
        self.param.watch(lambda *events: self._play(), "playing")
        self._scale()
        self.refresh()

    def _scale(self):
        """The bar's text, buttons and slider at the text scale, as the plots and numbers are;
        in the presenter layout, one row."""
        k, presenter = self.state.scale / 100, self.state.presenter
        for name, button in self.buttons.items():
            label = self.PRESENTER_LABELS.get(name, name) if presenter else name
            button.param.update(label=label, width=round((len(label) * 8 + 34) * k),
                                visible=not (presenter and name in self.PRESENTER_HIDDEN))
        self.cancel.width, self.play.width = round(80 * k), round(90 * k)
        self.speed.width = round(170 * k)
        self.speed.visible = not presenter and not self.state.running
        self.timeline.styles = {"flex": f"1 1 {round(self.TIMELINE_LEAST * k)}px"}
        self.layout.styles = scaled_text(self.state.scale)

    def _on_key(self, event):
        """A shortcut pressed in the page (keyboard.py)."""
        key = self.keys.pressed
        if key == "help":
            self.help.visible = not self.help.visible
        elif key == "close":
            self.help.visible = False
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
            self.speed.visible = not running and not self.state.presenter   # room for Cancel and the progress

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
        return self.layout


