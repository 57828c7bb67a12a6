"""The lesson bar above the plots: Back, Next, the open step's title, caption and formula."""
from __future__ import annotations

import html

import panel as pn
import param

from .as_text import formula_html
from .panel_speedup import QuickButton
from .state import ExplorerState
from .viewer_tools import READOUT_CSS, held, scaled_text

LESSON_CSS = """
.lesson { border-left: 4px solid #1f4e79; padding: 2px 10px; background: rgba(31, 78, 121, .06); }
.caption { margin: 3px 0; font-size: 1.05em; }
.lesson details summary { cursor: pointer; color: #1f4e79; }
.lesson.compact { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 1em; }
.lesson.compact .formula { margin: 0; }
/* the presenter's caption opens over the plots, not above them: pushed down, they left the window */
.lesson.compact details[open] .caption { position: fixed; left: 24px; right: 24px; z-index: 20; margin: 4px 0;
  padding: 8px 12px; background: Canvas; color: CanvasText; border-left: 4px solid #1f4e79;
  box-shadow: 0 3px 10px rgba(0, 0, 0, .35); }
"""


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
        self.state.param.watch(lambda e: self._scale(), "scale")
        self._scale()
        # a step's caption is rebuilt when the step or the lesson (read again when opened) is
        # another, not at every step the user takes (`revision` also marks a re-opened lesson)
        self.state.param.watch(lambda *events: self.refresh(), ["revision", "lesson_name", "lesson_step"])
        self.state.param.watch(lambda e: self.refresh(again=True), "presenter")
        self.refresh()

    def _scale(self):
        """The caption and the buttons at the text scale, as the plots and numbers are."""
        k = self.state.scale / 100
        self.back.width, self.next.width, self.close.width = round(90 * k), round(90 * k), round(140 * k)
        self.layout.styles = scaled_text(self.state.scale)

    def refresh(self, again: bool = False):
        """The open step's caption. In the presenter layout the bar is compact (the title and the
        formula on one line, the caption one click away), so that the plots it talks about fit
        in the window below it on a projector (at 1366×768 and 200 % they were cut)."""
        lesson = self.state.player.lesson
        number = self.state.lesson_step
        if not again and self._shown is not None and self._shown[0] is lesson and self._shown[1] == number:
            return                              # the same step of the same lesson: its caption is there
        self._shown = (lesson, number)
        self.layout.visible = lesson is not None
        if lesson is None:
            return
        step = lesson.steps[number]
        self.back.disabled = number == 0
        self.next.disabled = number == len(lesson.steps) - 1
        title = (f"<b>{html.escape(lesson.title)}, step {number + 1} of {len(lesson.steps)}: "
                 f"{html.escape(step.title)}</b>")
        formula = f"<div class='formula'>{formula_html(step.formula)}</div>" if step.formula else ""
        caption = html.escape(step.caption)
        self.close.visible = not self.state.presenter
        if self.state.presenter:
            self.caption.object = (f"<div class='lesson compact'>{title}{formula}<details><summary>the caption"
                                   f"</summary><div class='caption'>{caption}</div></details></div>")
        else:
            self.caption.object = f"<div class='lesson'>{title}<div class='caption'>{caption}</div>{formula}</div>"

    def __panel__(self):
        return self.layout


