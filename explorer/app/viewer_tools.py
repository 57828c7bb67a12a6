"""What the viewers share: the pool that runs long work off the event loop, the numbers' CSS,
and small helpers (a held action, a closed card, a typed number box, a tagged figure)."""
from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import panel as pn

from .save_plots import PLOT_TAG

# Long runs go here, off the server's event loop: at most as many at once as there are cores.
RUNS = ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2)), thread_name_prefix="explorer-run")

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


def scaled_text(scale: int) -> dict:
    """CSS styles that put an area's text, its widgets' included, at `scale` % of the page's
    design sizes (14 px text on 20 px lines, widgets 40 px high at 100 %): the design's sizes are
    CSS variables that the widgets inside the area inherit."""
    k = scale / 100
    return {"font-size": f"{round(14 * k)}px", "--type-ramp-base-font-size": f"{round(14 * k)}px",
            "--type-ramp-base-line-height": f"{round(20 * k)}px", "--design-unit": f"{4 * k:g}"}


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


class ClosedCard(pn.Card):
    """A card that starts closed and takes its contents when it is first opened (by the user,
    or by the app to show something in it): until then they are no models of the page (the
    three closed cards: a page open's server CPU 0.41 → 0.32 s, 2-core machine, paired runs).
    The page knows the models the server adds then as the server's own (known_models.py), so a
    click on one of the new widgets sends a reference, not the whole widget. `select` sees the
    contents either way (the sidebar sizes its widgets before any card is opened)."""

    def __init__(self, title: str, *objects):
        super().__init__(title=title, collapsed=True, sizing_mode="stretch_width", margin=(4, 0))
        self._held = list(objects)
        self.param.watch(self._fill, "collapsed")

    def _fill(self, event):
        if not event.new and self._held:
            self.objects, self._held = self._held, []

    def select(self, selector=None):
        return super().select(selector) + [found for obj in self._held for found in obj.select(selector)]


def typed_box(widget):
    """A number box that sends what was typed: Bokeh's box silently pulls a value past its
    start or end back to it (10⁸ became 200,000), so the box has none and the state refuses a
    value out of range in words, setting the box back (`ExplorerState.why_refused`)."""
    widget.param.update(start=None, end=None)
    return widget


def tagged(figure):
    """`figure`, tagged as one of the plots that "All plots" saves (save_plots.py)."""
    figure.tags = [PLOT_TAG]
    return figure


