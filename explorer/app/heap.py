"""Garbage collection for a server with many sessions.

Each session holds hundreds of Bokeh models and thousands of Python objects that live as long
as it does. CPython's full collections walk every object on the heap, so with a class connected
one of them takes a large fraction of a second, and the clicks that trigger it wait. Here the
objects alive once a session has loaded are moved out of the collector's sight (`gc.freeze`),
and only when sessions end is the heap thawed, collected once (the ended sessions' cycles are
freed: memory returns) and frozen again. Collections of the young objects a click makes stay
as cheap as with one session.
"""
from __future__ import annotations

import gc
import threading

_pending = threading.Lock()
DELAY = 2.0      # seconds: sessions that end together are collected in one pass


def _give_back():
    """Return freed memory to the system (glibc keeps it otherwise, and the server's resident
    memory would only ever grow)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):      # not glibc: nothing to do
        pass


def settle():
    """The objects alive now (a loaded session) are long-lived: out of the collector's way."""
    gc.freeze()


def collect_ended(loop=None):
    """After sessions end: thaw, collect their cycles, freeze the rest again (one pass for all
    that end within DELAY seconds)."""
    if not _pending.acquire(blocking=False):
        return

    def run():
        try:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            _give_back()
        finally:
            _pending.release()

    if loop is None:
        run()
    else:
        loop.call_later(DELAY, run)
