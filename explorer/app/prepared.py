"""Pages prepared while the server is idle, for a class that arrives at once.

A page open costs a served process about 0.5 s of CPU (2-core machine). About 0.2 s of it
builds the page's objects: the state, the five figures, the step bar and the sidebar's widgets
(`App`). The rest makes the page's Bokeh models from them, serialises and sends them. The objects
depend on the page's address, the server's `--args` and the files those name (lessons, the
implementations to check against), so a process builds some ahead while it has nothing else to
do, and a page asked for with that address takes one (`PreparedPages.take`) and makes only its
models. The total work per page is the same; what a class arriving at once waits for is less.

* **What is prepared.** Pages of `--args --prepare-for QUERY` (the class's link) if given,
  else of the address asked for most among the last `ASKED_REMEMBERED` pages (the latest of
  equals; before any, the default screen): one student's reload of the longer address the page
  writes into its URL does not move it. A heavy link (replayed off the event loop) is never
  prepared; neither is any page when the model is loaded from a file (`--model file.py:Class`:
  the app watches the file, and a page must be built from its latest save) or under
  `--autoreload`. A prepared page built before a lesson file or a `--against` file changed is
  dropped, not handed out.
* **When.** A tick every `TICK_SECONDS` prepares one page when the process spent less than
  `IDLE_SHARE` of the last tick on anything else and no page was asked for within
  `QUIET_SECONDS` (pages arriving together are not slowed by preparing): a click waits at most
  for one page's preparation (about 0.2 s for the default screen; a link with steps to replay,
  up to twice that). The ticks run outside any session.
* **How many.** At most `size` pages (`--args --prepared-pages`, default 2; each holds about
  4.5 MB), the oldest of another address dropped first.

The pool is per process and module-level, like the large sessions' count (budget.py): each
prepared App goes to exactly one session, which then owns it; no two sessions share an object.
`panel serve --setup apps/prepare_pages.py` starts the ticks in every process at its start;
without it a process starts them at its first page.
"""
from __future__ import annotations

import collections
import contextvars
import logging
import time
from typing import Callable
from urllib.parse import urlencode

from .budget import heavy_link
from ..screen import plain_query

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5
IDLE_SHARE = 0.1
QUIET_SECONDS = 3.0
DEFAULT_SIZE = 2
MOST_SIZE = 500
ASKED_REMEMBERED = 20       # the pages whose addresses decide what is prepared
MOST_REFUSED = 1000


def address_key(query: dict | None) -> tuple:
    """The page's address as a key: its query's keys and values, in order."""
    return tuple(sorted(plain_query(query).items()))


def address_text(key: tuple) -> str:
    return "?" + urlencode(key) if key else "the default screen"


class PreparedPages:
    """Apps built ahead for the address a class asks for, each handed to one page.

    `build(query)` makes an App for a page of that query (outside any session), or None when
    such a page must not be prepared. `inputs()` tells the files an App reads when it is built
    (lessons, implementations to check against) apart: an App built from other files is dropped.
    `clock` and `cpu` are the wall clock and this process's CPU time (injected by the tests)."""

    def __init__(self, build: Callable[[dict], object], size: int = DEFAULT_SIZE,
                 inputs: Callable[[], object] = lambda: None,
                 clock: Callable[[], float] = time.monotonic, cpu: Callable[[], float] = time.process_time):
        self.build, self.size, self.inputs, self.clock, self.cpu = build, size, inputs, clock, cpu
        self._apps: list[tuple[tuple, object, object]] = []    # (address key, app, inputs), oldest first
        self._pinned: tuple | None = None                      # --prepare-for
        self._asked: collections.deque = collections.deque(maxlen=ASKED_REMEMBERED)
        self._refused: dict[tuple, None] = {}                  # addresses never to prepare (oldest first)
        self._asked_at = float("-inf")
        self._last = None                                      # (clock, cpu) at the last tick's end
        self._ticks = None

    def _preparable(self, key: tuple) -> bool:
        return key not in self._refused and not heavy_link(dict(key))

    def pin(self, query: dict | None) -> None:
        """Prepare pages of `query` whatever else is asked for (`--prepare-for`: the class's link)."""
        key = address_key(query)
        if self._preparable(key):
            self._pinned = key
        else:
            log.warning("--prepare-for %s: a heavy link (replayed off the event loop) is not prepared; "
                        "the pages asked for most are", address_text(key))

    @property
    def wanted(self) -> tuple:
        """The pinned address, else the one asked for most among the last pages (the latest of
        equals), else the default screen: one reload of a longer address does not move it."""
        if self._pinned is not None:
            return self._pinned
        asked = [key for key in self._asked if self._preparable(key)]
        if not asked:
            return ()
        counts = collections.Counter(asked)
        return max(reversed(asked), key=counts.__getitem__)

    def take(self, query: dict | None):
        """A prepared App for a page of `query`, or None (the page builds its own)."""
        key = address_key(query)
        self._asked_at = self.clock()
        self._asked.append(key)
        self._drop_stale()
        for i, (k, app, _) in enumerate(self._apps):
            if k == key:
                del self._apps[i]
                log.info("a page of %s from the prepared ones (%d left)", address_text(key), len(self._apps))
                return app
        return None

    def _drop_stale(self) -> None:
        now = self.inputs()
        stale = [entry for entry in self._apps if entry[2] != now]
        if stale:
            self._apps = [entry for entry in self._apps if entry[2] == now]
            log.info("%d prepared pages dropped: a file they were built from changed", len(stale))

    def idle(self) -> bool:
        """Whether this process was idle since the last tick and no page was asked for lately."""
        now, cpu = self.clock(), self.cpu()
        last, self._last = self._last, (now, cpu)
        if last is None or now - self._asked_at < QUIET_SECONDS:
            return False
        return cpu - last[1] <= IDLE_SHARE * (now - last[0])

    def needed(self) -> bool:
        key = self.wanted
        return (self.size > 0 and key not in self._refused
                and sum(k == key for k, _, _ in self._apps) < self.size)

    def tick(self) -> None:
        """Prepare one page for the wanted address if the process is idle and one is missing."""
        if not self.idle() or not self.needed():
            return
        key = self.wanted
        inputs = self.inputs()
        try:
            app = self.build(dict(key))
        except (Exception, SystemExit) as exc:         # the page itself will say what is wrong
            log.info("pages for %s are not prepared: %s", address_text(key), exc)
            app = None
        if app is None:
            self._refused[key] = None
            if len(self._refused) > MOST_REFUSED:
                del self._refused[next(iter(self._refused))]
        else:
            if len(self._apps) >= self.size:
                older = next((i for i, (k, _, _) in enumerate(self._apps) if k != key), 0)
                del self._apps[older]
            self._apps.append((key, app, inputs))
            if not self.needed():
                log.info("%d pages prepared for %s", self.size, address_text(key))
        self._last = (self.clock(), self.cpu())        # the preparation's own CPU is not "busy"

    def start(self) -> None:
        """Tick on this thread's event loop from now on (once), outside any session: started
        from a page's script, the ticks would otherwise run (and build) in that session's
        context, with its document as Panel's current one."""
        if self._ticks is None and self.size > 0:
            from tornado.ioloop import PeriodicCallback
            self._ticks = PeriodicCallback(self.tick, TICK_SECONDS * 1000)
            contextvars.Context().run(self._ticks.start)

    def __len__(self):
        return len(self._apps)


_process_pages: PreparedPages | None = None


def this_process(make: Callable[[], PreparedPages]) -> PreparedPages:
    """This process's pool, made by `make()` at the first call (a process serves one app with
    one command line)."""
    global _process_pages
    if _process_pages is None:
        _process_pages = make()
    return _process_pages
