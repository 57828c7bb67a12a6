"""The shell of the Panel app: the template, the viewers around one `ExplorerState`, the URL.

`App(...)` takes what `ExplorerState` takes (a model's name, class, file spec or instance, data,
settings); `App.from_args` reads the server's command line (`panel serve apps/explorer.py --args
--model file.py:Class`); `servable()` puts it in a template and keeps the whole screen in the
page's URL, so a reload (the theme toggle reloads) or a copied link rebuilds the same states.
"""
from __future__ import annotations

from urllib.parse import urlencode

import panel as pn
from panel.theme.fast import Fast

from ..core.errors import ExplorerError
from ..core.loading import UserCodeError
from ..lessons import add_lesson_dir
from ..models import make_model
from .state import ExplorerState
from .viewers import Controls, LessonBar, Plots, StepBar


# The Fast design without its web font: a lecture hall may have no internet, and the page must
# ask nothing of another host (the system's sans-serif fonts are used). Panel finds a design's
# own files under its class name, so the subclass keeps the name "Fast".
OfflineFast = type("Fast", (Fast,), {"_resources": {**Fast._resources, "font": {}},
                                     "__doc__": "The Fast design without its web font."})


class App(pn.viewable.Viewer):
    def __init__(self, model=None, data=None, query: dict | None = None, state: ExplorerState | None = None,
                 **settings):
        super().__init__()
        self.state = state if state is not None else ExplorerState(model, data, query=query, **settings)
        self.controls = Controls(state=self.state)
        self.steps = StepBar(state=self.state)
        self.lesson = LessonBar(state=self.state)
        self.plots = Plots(state=self.state)

    @classmethod
    def from_args(cls, argv: list[str], query: dict | None = None) -> "App":
        """The app for `panel serve apps/explorer.py --args --model SPEC [--data FILE]`: models are
        only ever loaded from the server's command line, never from the browser."""
        import argparse
        parser = argparse.ArgumentParser(prog="panel serve apps/explorer.py --args")
        parser.add_argument("--model", help="a model's name, path/to/file.py:Class or module:Class")
        parser.add_argument("--data", help="a CSV or .npy file for that model")
        parser.add_argument("--lessons", help="a folder of lesson files (*.json) to offer beside the built-in ones")
        args = parser.parse_args(argv)
        if args.lessons:
            add_lesson_dir(args.lessons)
        if args.data and not args.model:
            parser.error("--data needs --model")
        try:
            if args.data:
                return cls(make_model(args.model, data_file=args.data), query=query)
            return cls(args.model, query=query)
        except (ExplorerError, UserCodeError) as exc:   # show it in the page; the server keeps going
            app = cls(query=query)
            app.state.details = getattr(exc, "details", "")
            app.state.message = f"The model {args.model!r} could not be loaded: {exc}"
            return app

    # the names the tests and notebooks use
    @property
    def session(self):
        return self.state.session

    @property
    def views(self):
        return self.plots.views

    def __panel__(self):
        return pn.Row(pn.Column(self.controls, width=300), pn.Column(self.steps, self.lesson, self.plots,
                                                                       sizing_mode="stretch_width"),
                      sizing_mode="stretch_width")

    def template(self) -> pn.template.FastListTemplate:
        return pn.template.FastListTemplate(
            title="EM explorer: log p(X|θ) = F(θ, q) + KL(q ‖ p(Z|X,θ))", sidebar=[self.controls],
            main=[pn.Column(self.steps, self.lesson, self.plots, sizing_mode="stretch_width", margin=0)],
            sidebar_width=300,
            header_background="#1f4e79", theme_toggle=True, main_layout=None, font_url="", design=OfflineFast,
            busy_indicator=None,
            font="DejaVu Sans, Liberation Sans, Arial, sans-serif")

    def servable(self, title: str | None = None, **kwargs):
        """Serve in the template; the URL follows every change, so it always rebuilds this screen."""
        if pn.state.location is not None:
            self.state.param.watch(lambda e: self._write_url(), ["revision", "model_revision", "scale", "speed",
                                                                  "lesson_name", "lesson_step"])
            self._write_url()
        if pn.state.curdoc is not None:
            pn.state.on_session_destroyed(lambda context: self.steps.stop())
        return self.template().servable(title=title, **kwargs)

    def _write_url(self):
        query = self.state.to_query()
        theme = (pn.state.session_args or {}).get("theme")
        if theme:
            query["theme"] = theme[-1].decode() if isinstance(theme[-1], bytes) else theme[-1]
        search = "?" + urlencode(query, safe=",:[]{}\"")
        if pn.state.location.search != search:
            pn.state.location.search = search
