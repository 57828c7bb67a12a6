"""Four changes to Panel's handling of an update or a page open, for a server's cost.

When a component's parameter changes, Panel (1.9) computes the design's modifiers for the
component (its resolved stylesheets, a walk over its class hierarchy) and then uses them only if
the change is to `stylesheets`. A click changes three components (the timeline, the numbers
panel, the page's address), so that unused work was about a tenth of the server's time per
click. `skip_unused_design_work()` makes Panel compute them only when they are used; what
reaches the page is the same (`tests/test_panel_speedup.py` compares both).

An HTML pane given a new object sends its text, but Panel works out all its other properties
again too (about 1.5 ms). `TextOnlyHTML` is an HTML pane whose new object sends its text only
(its other properties still follow their own changes), for the numbers panel.

A Button clicked in the page counts the click in Panel's process-wide busy counter (two
parameter changes with their watchers, for a busy indicator) and triggers its `value` event
(a snapshot of its forty parameters), then sets `clicks`, which runs the `on_click` callbacks:
about 6 ms of server time, a sixth of a step's. `QuickButton` sets `clicks` only. The app shows
no busy indicator, so nothing the user sees changes.

A Bokeh pane, making its model for a page, walks every model of its figure looking for CustomJS
callbacks whose code names the figure (to name the page's root instead): five walks over the
plots' ~250 models, about 25 ms of a page open's 0.3 s of server CPU, and again at every new
model's figures. The app's figures hold no CustomJS (`tests/test_panel_speedup.py` checks every
model's), so `FigurePane` skips that walk when served; in a notebook (a comm) it is Panel's.
"""
from __future__ import annotations

import panel as pn
from panel.io import remove_root
from panel.io.state import set_curdoc
from panel.reactive import Reactive

_panel_update_properties = Reactive._update_properties


def _update_properties(self, *events, doc):
    changes = {event.name: event.new for event in events}
    if "stylesheets" in changes:                    # Panel's own code: the design's sheets first
        return _panel_update_properties(self, *events, doc=doc)
    return self._process_param_change(changes)


def skip_unused_design_work() -> None:
    Reactive._update_properties = _update_properties


class TextOnlyHTML(pn.pane.HTML):
    """`pn.pane.HTML` whose new object sends the page its text, and nothing else."""

    def _update(self, ref, model):
        model.update(text=self._process_param_change({"object": self.object})["text"])


class QuickButton(pn.widgets.Button):
    """`pn.widgets.Button` whose click in the page only counts `clicks` (and so runs its
    `on_click` callbacks): no busy counter, no `value` event."""

    def _process_bokeh_event(self, doc, event):
        with set_curdoc(doc):
            self.clicks += 1


class FigurePane(pn.pane.Bokeh):
    """`pn.pane.Bokeh` for a figure that holds no CustomJS: served, its model is the figure as
    Panel makes it, without the walk over the figure's models for CustomJS code to rename."""

    def _get_model(self, doc, root=None, parent=None, comm=None):
        if root is None or comm is not None or self.object is None:
            return super()._get_model(doc, root, parent, comm)
        model = self.object
        if model._document and doc is not model._document:
            remove_root(model, doc)
        self._models[root.ref["id"]] = (model, parent)
        self._design.apply_bokeh_theme_to_model(model, self.theme)
        return model
