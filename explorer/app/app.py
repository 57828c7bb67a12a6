"""The shell of the Panel app: the template, the viewers around one `ExplorerState`, the URL.

`App(...)` takes what `ExplorerState` takes (a model's name, class, file spec or instance, data,
settings); `App.from_args` reads the server's command line (`panel serve apps/explorer.py --args
--model file.py:Class`); `servable()` puts it in a template and keeps the whole screen in the
page's URL, so a reload (the theme toggle reloads) or a copied link rebuilds the same states.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import panel as pn
from panel.theme.fast import Fast

from ..core.errors import ExplorerError
from ..core.loading import UserCodeError, is_model_spec, load_model_class
from .. import text
from ..lessons import add_lesson_dir
from ..models import make_model
from .address import AddressWriter
from .page_speedup import remember_class_defaults, serialise_set_values_only, walk_references_quickly
from .panel_speedup import skip_unused_design_work
from ..screen import names, plain_query
from . import budget
from .budget import heavy_link
from . import prepared
from .building import adopt
from .controls import Controls
from .kept_glyphs import KeptGlyphs
from .known_models import KnownModels
from .lesson_bar import LessonBar
from .plots_view import Plots, make_views
from .quiet_legends import QuietLegends
from .steady_axes import SteadyAxes
from .steady_styles import SteadyStyles
from .serving import (give_memory_back_soon, local_style_sheets, skip_document_validation, skip_error_diagnostics,
                      tune_the_collector)
from .sources import MAX_UPLOAD_BYTES
from .state import ExplorerState
from .step_bar import StepBar
from .viewer_tools import in_background


# The Fast design without its web font: a lecture hall may have no internet, and the page must
# ask nothing of another host (the system's sans-serif fonts are used). Panel finds a design's
# own files under its class name, so the subclass keeps the name "Fast".
OfflineFast = type("Fast", (Fast,), {"_resources": {**Fast._resources, "font": {}},
                                     "__doc__": "The Fast design without its web font."})


RELOAD_CHECK_MS = 300   # how often a page looks at its model file's time of saving
IDLE_MINUTES = 30.0     # a page with no action for this long is closed (`--args --idle-minutes`; 0: never)
IDLE_CHECK_SECONDS = 10.0  # how often a page checks it is idle; Bokeh frees an ended session by the next check
ENDED = ("This session has ended (idle for a while, or the server restarted). Reload the page to start "
         "again: its address keeps the model, the settings and the steps taken.")
log = logging.getLogger("explorer.app")


class ModelSource:
    """A user's model given on the server's command line (`file.py:Class`, with `--data`), and
    whether its files (the model's, and the data's) have been saved since they were last read.
    Only these files are watched: nothing the browser sends names a file."""

    def __init__(self, spec: str, data_file: str | None = None):
        self.spec, self.data_file = spec, data_file
        where = spec.rpartition(":")[0]
        self.paths = [p for p in (where if where.endswith(".py") else None, data_file) if p]
        self._seen = self._mtimes()

    def _mtimes(self):
        def mtime(path):
            try:
                return os.stat(path).st_mtime_ns
            except OSError:
                return None
        return tuple(mtime(p) for p in self.paths)

    def saved(self) -> bool:
        """True once after each save of a watched file (not while one is missing, mid-save)."""
        now = self._mtimes()
        if None in now or now == self._seen:
            return False
        self._seen = now
        return True

    def load(self):
        """The model's class, or an instance bound to `--data`; the user's errors are raised."""
        if self.data_file:
            return make_model(self.spec, data_file=self.data_file)
        return load_model_class(self.spec)


def serve_this_process() -> None:
    """The served process's settings, once, before its first page (serving.py, page_speedup.py)."""
    log.setLevel(logging.INFO)      # beside the server's own lines (bokeh logs at INFO)
    tune_the_collector()            # a tenth of a page open
    skip_error_diagnostics()
    skip_document_validation()
    serialise_set_values_only()     # a page's serialisation 120 → 30 ms
    remember_class_defaults()       # Bokeh's defaults worked out once per class
    walk_references_quickly()       # Bokeh's walks of a page's models: a tenth of a page open


class App(pn.viewable.Viewer):
    def __init__(self, model=None, data=None, query: dict | None = None, state: ExplorerState | None = None,
                 idle_minutes: float = IDLE_MINUTES, **settings):
        super().__init__()
        self._over = False       # the session has ended
        self._link = None        # a heavy link's query, opened off the event loop once the page is there
        if state is None and pn.state.curdoc is not None and heavy_link(query):
            self._link, self._made = query, (model, data, settings)
            query = None
        self.state = state if state is not None else ExplorerState(model, data, query=query, **settings)
        self.idle_minutes = idle_minutes
        self.source = None               # a ModelSource to reload from when its file is saved
        self.last_action = None          # set when the page has loaded, then by every action
        self.state.param.watch(self._active, ["revision", "model_revision", "message", "lesson_step"])
        self.controls = Controls(state=self.state)
        self.steps = StepBar(state=self.state)
        # the template's sidebar as wide as the sidebar's text at the scale (the page's key listener
        # is the component that reaches the template's frame)
        self.steps.keys.sidebar_width = Controls.width_at(self.state.scale)
        self.state.param.watch(lambda e: setattr(self.steps.keys, "sidebar_width", Controls.width_at(e.new)), "scale")
        self.lesson = LessonBar(state=self.state)
        self.plots = Plots(state=self.state)
        self.address = AddressWriter(margin=0, width=0, height=0)    # the page's URL (address.py)
        self.legends = QuietLegends(margin=0, width=0, height=0)     # legends kept across clicks (quiet_legends.py)
        self.steady_styles = SteadyStyles(margin=0, width=0, height=0)   # fewer style passes a paint (steady_styles.py)
        self.steady_axes = SteadyAxes(margin=0, width=0, height=0)       # no page layout for new ticks (steady_axes.py)
        self.kept_glyphs = KeptGlyphs(margin=0, width=0, height=0)       # glyph views keep what they inherit (kept_glyphs.py)
        self.known_models = KnownModels(margin=0, width=0, height=0)     # the server's models sent back as references

    @staticmethod
    def _arguments():
        import argparse
        parser = argparse.ArgumentParser(prog="panel serve apps/explorer.py --args")
        parser.add_argument("--model", help="a model's name, path/to/file.py:Class or module:Class")
        parser.add_argument("--data", help="a CSV or .npy file for that model")
        parser.add_argument("--against", action="append", default=[], metavar="FILE.py:Class",
                            help="a second implementation to hold the model against in the Checks card (repeatable)")
        parser.add_argument("--lessons", help="a folder of lesson files (*.json) to offer beside the built-in ones")
        parser.add_argument("--idle-minutes", type=float, default=IDLE_MINUTES,
                            help="close a page after this many minutes without an action (default %(default)g; "
                                 "0: never); its URL rebuilds it on reload")
        parser.add_argument("--max-upload-mb", type=float, default=MAX_UPLOAD_BYTES / 2**20,
                            help="the largest CSV a page may upload, in MB (default %(default)g; keep it under "
                                 "the server's --websocket-max-message-size, 20 MB by default)")
        parser.add_argument("--prepared-pages", type=int, default=prepared.DEFAULT_SIZE,
                            help="pages each server process prepares while idle, for the address last asked "
                                 f"for (default %(default)s, at most {prepared.MOST_SIZE}; about 4.5 MB each)")
        parser.add_argument("--prepare-for", default="", metavar="QUERY",
                            help="the address to prepare pages for until another is asked for: the class's "
                                 "link, e.g. 'lesson=variational-em' (default: the default screen)")
        return parser

    @classmethod
    def for_page(cls, argv: list[str], query: dict | None = None) -> "App":
        """The app of a served page: one prepared ahead for its address if this process has
        one (prepared.py), else `from_args`. Starts this process's preparing."""
        pages = cls.prepare_pages(argv)
        return pages.take(query) or cls.from_args(argv, query=query)

    @classmethod
    def prepare_pages(cls, argv: list[str]) -> prepared.PreparedPages:
        """This process's prepared pages (made once, `--prepared-pages` of them), ticking. None
        are prepared for a model loaded from a file, under --autoreload, or when the arguments
        are wrong (each page then says what is wrong, as from_args says it)."""
        serve_this_process()
        return prepared.this_process(lambda: cls._new_pages(argv))

    @classmethod
    def _new_pages(cls, argv: list[str]) -> prepared.PreparedPages:
        try:
            args = cls._arguments().parse_args(argv)
        except SystemExit:
            args = None
        size = 0 if (args is None or not 0 <= args.prepared_pages <= prepared.MOST_SIZE or pn.config.autoreload
                     or (args.model and is_model_spec(args.model))) else args.prepared_pages
        pages = prepared.PreparedPages(lambda query: cls._prepared(argv, query), size, lambda: cls._files_read(args))
        if size > 0:
            if args.prepare_for:
                pages.pin(dict(parse_qsl(args.prepare_for.lstrip("?"), keep_blank_values=True)))
            pages.start()
        return pages

    @staticmethod
    def _files_read(args) -> tuple:
        """The files an App reads when it is built, with their times of saving: the lessons'
        folders and the implementations to check against."""
        if args is None:
            return ()
        paths = sorted(Path(args.lessons).glob("*.json")) if args.lessons else []
        paths += [Path(spec.rpartition(":")[0]) for spec in args.against]
        stamps = []
        for path in paths:
            try:
                stamps.append((str(path), path.stat().st_mtime_ns))
            except OSError:
                stamps.append((str(path), None))
        return tuple(stamps)

    @classmethod
    def _prepared(cls, argv: list[str], query: dict) -> "App | None":
        """The app a page of `query` would get, built outside any session; None for a model
        loaded from a file (the page must read its latest save)."""
        app = cls.from_args(argv, query=query)
        if app.source is not None:
            return None
        app.controls.__panel__()            # the sidebar's widgets too
        return app

    @classmethod
    def from_args(cls, argv: list[str], query: dict | None = None) -> "App":
        """The app for `panel serve apps/explorer.py --args --model SPEC [--data FILE]`: models are
        only ever loaded from the server's command line, never from the browser."""
        parser = cls._arguments()
        args = parser.parse_args(argv)
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            serve_this_process()
        if not 0 <= args.prepared_pages <= prepared.MOST_SIZE:
            parser.error(f"--prepared-pages must be in 0..{prepared.MOST_SIZE}")
        if not 0 < args.max_upload_mb <= 1024:
            parser.error("--max-upload-mb must be in (0, 1024]")
        if args.idle_minutes < 0:
            parser.error("--idle-minutes must be 0 (never) or more")
        limit = {"max_upload_bytes": int(args.max_upload_mb * 2**20), "idle_minutes": args.idle_minutes}
        if args.lessons:
            add_lesson_dir(args.lessons)
        if args.data and not args.model:
            parser.error("--data needs --model")
        source = ModelSource(args.model, args.data) if args.model and is_model_spec(args.model) else None
        try:
            app = cls(source.load() if source else args.model, query=query, **limit)
        except (ExplorerError, UserCodeError) as exc:   # show it in the page; the server keeps going
            app = cls(query=query, **limit)
            app.state.details = getattr(exc, "details", "")
            app.state.message = f"The model {args.model!r} could not be loaded: {exc}"
        app.source = source
        for spec in args.against:
            try:
                other = load_model_class(spec)
                app.state.sources.against_models[other.name] = other
            except (ExplorerError, UserCodeError) as exc:
                app.state.notes = app.state.notes + [f"--against {spec} could not be loaded: {exc}"]
        app.controls._offer_second_implementations()
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
                                                                       sizing_mode="stretch_both"),
                      sizing_mode="stretch_both")

    def template(self) -> pn.template.FastListTemplate:
        return pn.template.FastListTemplate(
            title="EM explorer: log p(X|θ) = F(θ, q) + KL(q ‖ p(Z|X,θ))", sidebar=[self.controls],
            main=[pn.Column(self.steps, self.lesson, self.plots,
                            # the invisible page components (address.py, quiet_legends.py, steady_*.py,
                            # kept_glyphs.py, known_models.py)
                            self.address, self.legends, self.steady_styles, self.steady_axes, self.kept_glyphs,
                            self.known_models,
                            sizing_mode="stretch_both", margin=0)],
            sidebar_width=Controls.width_at(self.state.scale),
            header_background="#1f4e79", theme_toggle=True, main_layout=None, font_url="", design=OfflineFast,
            busy_indicator=None,
            font="DejaVu Sans, Liberation Sans, Arial, sans-serif")

    def servable(self, title: str | None = None, **kwargs):
        """Serve in the template; the URL follows every change, so it always rebuilds this screen."""
        if pn.state.curdoc is not None:
            # a room setting (scale, presenter layout, SVG, ...) changes no revision
            self.state.param.watch(lambda *events: self._write_url(), ["revision", "model_revision", "lesson_name",
                                                                  "lesson_step", *names("room")])
            self._write_url()
            local_style_sheets()                     # with --reuse-sessions, never Panel's CDN (serving.py)
            self.state.background = self.steps.background    # long actions off the event loop
            skip_unused_design_work()                # a tenth of a click's server time (panel_speedup.py)
            pn.config.disconnect_notification = ENDED
            pn.state.on_session_destroyed(self._ended)
            if self.source is not None and self.source.paths:     # saving the model's file reloads it here
                pn.state.add_periodic_callback(self._reload_if_saved, period=RELOAD_CHECK_MS)
            if self._link is not None:
                pn.state.onload(lambda: pn.state.execute(self._open_link))
            if self.idle_minutes > 0:
                pn.state.onload(self._active)        # idle from when the page is there, not from its request
                period = min(IDLE_CHECK_SECONDS, self.idle_minutes * 60 / 4)
                pn.state.add_periodic_callback(self._close_if_idle, period=int(period * 1000))
        # Served, the template's eight roots join the document together: Bokeh walks the page's
        # models once, not once per root (a third of the server's work to open a page).
        with pn.state.curdoc.models.freeze() if pn.state.curdoc is not None else contextlib.nullcontext():
            return self.template().servable(title=title, **kwargs)

    async def _open_link(self):
        """Open a heavy link (large synthetic data, many steps to replay) off the event loop:
        its screen is built aside, with its progress and Cancel, while this page shows the
        default screen and every other session keeps its turn; then it is taken in one change."""
        query, self._link = self._link, None
        model, data, settings = self._made
        cancel, done, started = threading.Event(), {"i": 0, "n": 0}, time.monotonic()
        self.steps._cancel = cancel             # the step bar's Cancel
        self.steps.cancel.visible = True

        def work():
            other = ExplorerState(model, data, **settings)
            other.links.apply(query, progress=lambda i, n: done.update(i=i, n=n), cancelled=cancel.is_set)
            return other, make_views(other, filled=True)      # its figures too, made and filled here

        def describe():
            doing = f"replaying half step {done['i'] + 1} of {done['n']}" if done["n"] else "building the data"
            return f"Opening the link: {doing} ({time.monotonic() - started:.0f} s)"
        try:
            built, error = await in_background(self.state, "Opening the link", work, self.steps.progress, describe)
        finally:
            if not self._over:
                self.steps.cancel.visible = False
        other, views = built or (None, None)
        if self._over:                         # the page closed meanwhile: nothing to show it on
            budget.LARGE_SESSIONS.release(other)
            return
        if error is not None:
            with pn.io.hold():
                self.state.report(error, "The link could not be opened (the default screen is shown)")
        else:
            await self.plots.take_views(lambda: adopt(self.state, other), views)

    def _reload_if_saved(self):
        """The model's file was saved: rebuild this screen on the new code and run the checks
        again; if the new code fails, say so with its frames and keep the last working model."""
        if not self.source.saved():
            return
        start = time.perf_counter()
        try:
            model = self.source.load()
        except (ExplorerError, UserCodeError) as exc:
            self.state.details = getattr(exc, "details", "")
            self.state.message = f"The saved model could not be loaded (the last working version stays): {exc}"
            return
        loaded = time.perf_counter()
        # new figures and the checks' pictures join the document at once: Bokeh walks the
        # page's models once, not once per figure (5 walks were a second of the reload)
        with pn.io.hold(), (pn.state.curdoc.models.freeze() if pn.state.curdoc else contextlib.nullcontext()):
            with self.plots.drawn_once():
                reloaded = self.state.reload_model(model)
            rebuilt = time.perf_counter()
            if reloaded:
                def verdict(report):            # the verdict where the eye is: the numbers panel
                    said = text.checks_verdict(report)
                    self.state.notes = self.state.notes[:-1] + [f"{self.state.notes[-1]} After the reload {said}."]
                    log.info("reloaded %s in %.2f s (import %.2f, screen %.2f, checks and verdict %.2f)",
                             self.source.spec, time.perf_counter() - start, loaded - start, rebuilt - loaded,
                             time.perf_counter() - rebuilt)
                self.controls.run_checks(then=verdict)

    def _active(self, *events):
        if self.last_action is not None or not events:     # the page's load (no events) starts the clock
            self.last_action = time.monotonic()

    def _close_if_idle(self):
        """Close this page's connection once it has been idle too long; the server then ends
        the session (after `--unused-session-lifetime`) and its memory is freed."""
        if self.last_action is None:        # not loaded yet, or closed already
            return
        idle = time.monotonic() - self.last_action
        if idle < self.idle_minutes * 60:
            return
        self.last_action = None
        self.steps.stop()
        session = pn.state.curdoc.session_context and pn.state.curdoc.session_context._session
        for connection in list(getattr(session, "_subscribed_connections", ())):
            connection._socket.close(1000, "idle")
        log.info("closed an idle session after %.0f s without an action", idle)

    def _ended(self, context):
        """The session is over (its page closed or timed out): say so in the log, stop Play.
        Bokeh calls this after it destroyed the document's models, and before or after Panel
        forgets them (the callbacks are a set): nothing here may touch the page."""
        log.info("session %s ended at state %d of %d", context.id, self.state.session.position,
                 len(self.state.session.history) - 1)
        self.steps.end()
        self._over = True
        budget.LARGE_SESSIONS.release(self.state)
        give_memory_back_soon(IDLE_CHECK_SECONDS + 2)   # Bokeh frees the session at the check's next tick

    def _write_url(self):
        query = self.state.links.query()
        theme = plain_query(pn.state.session_args).get("theme")
        if theme:
            query["theme"] = theme
        self.address.search = "?" + urlencode(query, safe=",:[]{}\"")
