"""The numbers panel (state, what the step did and why, its formula, the numbers, errors and
warnings) and the analyses' tables that sit below the plots."""
from __future__ import annotations

import html

import panel as pn
import param

from ..core.readout import readout
from ..presets import PRESETS
from .. import text
from .panel_speedup import TextOnlyHTML
from .state import ExplorerState
from .viewer_tools import READOUT_CSS

TABLES_CSS = """
.table-block { display: inline-block; vertical-align: top; margin: 0 18px 8px 0; max-width: 100%; overflow-x: auto; }
"""


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
        self.state.param.watch(lambda *events: self.refresh(), ["revision", "message", "notes"])
        self.state.param.watch(lambda e: self._scale(), "scale")
        self._scale()
        self.refresh()

    def _scale(self):
        size = f"{round(13 * self.state.scale / 100)}px"
        self.pane.styles = {"overflow-y": "auto", "font-size": size}
        self.tables.styles = {**self.tables.styles, "font-size": size}     # beside its place in the plots' flow

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
    r = readout(s, state.analyses.comparison)        # the state's numbers, once (core.readout)
    family = state.family_object
    parts = []
    if state.message:
        parts.append(f"<div class='error'>{html.escape(state.message)}</div>")
        if state.details:
            parts.append(f"<details><summary>details</summary><pre>{html.escape(state.details)}</pre></details>")
    parts.append(f"<div class='status'>{text.status_line(s.position, len(s.history) - 1, r, family)}</div>")
    if state.activity:
        parts.append(f"<div class='sentence'><b>{html.escape(state.activity)}</b></div>")
    parts.append(f"<div class='sentence'>{html.escape(text.sentence(r, family))}</div>")
    parts.append(f"<div class='formula'>{text.formula(r, family)}</div>")
    parts += [text.table(r), text.rate_line(r.rate, family), text.gap_line(r), text.warnings_html(r)]
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


