"""A server process serving a class: connections shared between processes, memory given back.

**Connections.**

`panel serve --num-procs N` forks N processes that share one listening socket. Each wakes when
a connection waits, and Tornado's accept handler then takes up to 128 waiting connections in
one go (`tornado.netutil._DEFAULT_BACKLOG`, read each time the handler runs). Building a page
keeps a process busy for about 2 s, so when a class opens the link together, the process that
wakes after such a build takes every connection that queued meanwhile, and the others idle:
100 sessions on `--num-procs 2` measured p50 1.4 s a click, one process with 6 minutes of CPU
and the other 20 s.

Taking one connection per wake leaves the next one to whichever process is free first, so the
class spreads over the processes by how busy they are. A process serving alone keeps Tornado's
way: taking every waiting connection at once answers their websocket handshakes at once, and
the pages are then built one after another either way.

**Pages.** A browser asks for a page over HTTP, which builds the page's session in the process
that answers, then opens a websocket for that session, which another process may answer: that
process builds the session again, and the first copy waits unused until it expires. With two
processes half of the pages were built twice (8 Chromium pages: 12 sessions; 1.36 s of server
CPU a page instead of 0.85). `panel serve --reuse-sessions` answers the HTTP request from one
cached session per process, so each page is built once, where its websocket lands; a forked
process without it says so in the log.

**Garbage collection.** Python's cyclic collector walks, at each full collection, every
container object the process holds, and most of them are the modules (Panel, Bokeh, numpy,
scipy, the app: 160,000 objects, 80 ms a walk) that live as long as the process. A page's
build starts a full collection about once, and smaller ones dozens of times: 0.1 s of the
server's CPU a page open. `gc.freeze()` before the first page moves the objects that exist
then out of the collector's reach for good (they are still freed when nothing refers to them),
so its walks cover only the sessions' objects. A young collection every 10,000 new objects
instead of 700 leaves most of a page's temporary objects to be freed by their reference counts
before a collection walks them (the collector's time a page: 109 ms, 57 frozen, 23 both).

**Diagnostics.** Bokeh checks the signature of every callback given to `on_change` (with
`inspect.signature`), and Panel gives one for each property it keeps in step with the page:
about 630 a page open. Its setting `perform_error_diagnostics` turns that off (and the
suggestions of similar names in the message of a misspelt attribute, which is still an
error); a served process has no use for them, the tests keep them. Bokeh also validates a
page's models each time it sends a page: checks for a developer's mistakes (a layout with no
children, a glyph's missing column), 60 ms a page open and the same for every page of a model.
Its setting `perform_document_validation` turns them off in a served process; the tests run
them on the page of every model and every lesson step and fail on any issue
(`tests/test_page_speedup.py`).

**Memory.** A session's objects are freed when it ends, but the allocator keeps the freed
memory for reuse, so the process stays at its high-water mark (20 pages built and closed:
129 MB before, 240 MB after). With `PYTHONMALLOC=malloc` in the server's environment every
allocation comes from the C library, and `malloc_trim` returns the freed pages to the system
(240 MB back to 133 MB); under Python's own small-object allocator it returns 6 MB. A session's
objects are free only some seconds after it ends (Bokeh keeps a stopped periodic callback, and
with it the session, until the callback's next tick), so the trim runs that long after the last
of the sessions ending together.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import sys

import tornado.netutil
import tornado.process
from tornado.ioloop import IOLoop

log = logging.getLogger(__name__)

CONNECTIONS_PER_WAKE = 1


def accept_one_connection_per_wake() -> None:
    """In a process forked by `--num-procs`, take one waiting connection each time it wakes."""
    if tornado.process.task_id() is None:         # not forked: the only process on its port
        return
    if not isinstance(getattr(tornado.netutil, "_DEFAULT_BACKLOG", None), int):
        log.warning("this Tornado has no _DEFAULT_BACKLOG: with --num-procs, one process may "
                    "take a whole class's connections")
        return
    tornado.netutil._DEFAULT_BACKLOG = CONNECTIONS_PER_WAKE


def warn_if_pages_build_twice(reuse_sessions) -> None:
    """In a process forked by `--num-procs`, log once that pages need `--reuse-sessions`."""
    global _warned_pages_build_twice
    if tornado.process.task_id() is None or reuse_sessions or _warned_pages_build_twice:
        return
    _warned_pages_build_twice = True
    log.warning("--num-procs without --reuse-sessions: a page whose websocket reaches another "
                "process than its HTTP request is built twice; add --reuse-sessions")


_warned_pages_build_twice = False


BACKGROUND_SWITCH_SECONDS = 0.001


def favour_the_event_loop() -> None:
    """Long work runs in threads beside the event loop (a heavy link, Run to convergence). A
    thread holding the interpreter gives it up only every `sys.getswitchinterval()` (5 ms by
    default), and the loop, which lets go of it at each socket write or log line, waits that
    long to get it back each time: a click of another session that lets go a hundred times
    waits half a second more. At 1 ms the loop gets it back five times sooner."""
    sys.setswitchinterval(BACKGROUND_SWITCH_SECONDS)


_frozen = False
YOUNG_OBJECTS_PER_COLLECTION = 10_000   # Python's default 700: 70 young collections a page, 5 at this


def tune_the_collector() -> None:
    """Once per process, before its first page is built: `gc.freeze()` what is loaded, and
    collect the young objects less often."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()          # what is garbage already is not kept forever
        gc.freeze()
        gc.set_threshold(YOUNG_OBJECTS_PER_COLLECTION, *gc.get_threshold()[1:])


def skip_error_diagnostics() -> None:
    """Bokeh's callback signature checks and name suggestions off in this (served) process."""
    from bokeh.settings import settings
    settings.perform_error_diagnostics.set_value(False)


def skip_document_validation() -> None:
    """Bokeh's integrity checks of a page's models off in this (served) process."""
    from bokeh.settings import settings
    settings.perform_document_validation.set_value(False)


def _c_library_trim():
    """glibc's `malloc_trim`, or None where the C library has none (macOS, musl)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_malloc_trim = _c_library_trim()
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_pending_trim = None


def give_memory_back() -> None:
    """Collect the ended sessions' cycles and return the allocator's free pages to the system."""
    global _pending_trim
    _pending_trim = None
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)
    log.info("ended sessions' memory given back: %.0f MB resident", _resident_mb())

def _resident_mb() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE / 2**20
    except OSError:                               # no /proc (macOS): nothing to report
        return float("nan")


def give_memory_back_soon(delay: float) -> None:
    """Trim `delay` seconds from now (when the ended session's objects are free), or from the
    last call if several sessions end together."""
    global _pending_trim
    loop = IOLoop.current()
    if _pending_trim is not None:
        loop.remove_timeout(_pending_trim)
    _pending_trim = loop.call_later(delay, give_memory_back)


def local_style_sheets() -> None:
    """Panel's style sheets for this page from this server, as for a page built by its HTTP
    request. With `--reuse-sessions` a page's session is made when its websocket connects, and
    Panel then never learns where the server keeps its files: every page after a process's
    first asked Panel's CDN for its style sheets (43 a page), so offline (a lecture hall) the
    page lost its styling and the text scale of its controls. Panel reads the address from the
    document's template variables when it makes a component's models; this sets it, as Panel's
    own HTML page does, unless the server sends Bokeh's files from a CDN (BOKEH_RESOURCES)."""
    import panel as pn
    from bokeh.settings import settings
    from panel.io.resources import LOCAL_DIST
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None or "dist_url" in doc.template_variables:
        return
    if settings.resources(default="server") not in ("server", "server-dev"):
        return
    doc.template_variables["dist_url"] = f"{pn.state.rel_path}/{LOCAL_DIST}" if pn.state.rel_path else LOCAL_DIST
