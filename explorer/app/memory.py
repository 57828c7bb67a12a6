"""Memory given back when sessions end.

An ended session's objects are freed by Python's collector, but the process keeps the freed
heap for later: without help its resident memory stays at the high-water mark of the busiest
moment of the lecture. A while after sessions end, `release_soon()` runs one full collection
and asks the C allocator to hand its free pages back to the system (glibc's `malloc_trim`;
elsewhere the collection alone). One release per burst of ended sessions: a class leaving at
once costs a few collections, not one per student.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
from pathlib import Path

from tornado.ioloop import IOLoop

DELAY_S = 5.0          # after the first of a burst of ended sessions
log = logging.getLogger("explorer.app")
_pending = False


def resident_mb() -> float | None:
    """This process's resident memory (Linux), for the log."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def release() -> None:
    """A full collection, then the allocator's free pages back to the system."""
    global _pending
    _pending = False
    before = resident_mb()
    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):     # not glibc: the collection alone
        pass
    after = resident_mb()
    if before is not None and after is not None:
        log.info("memory after ended sessions: %.0f MB (was %.0f MB)", after, before)


def release_soon(delay: float = DELAY_S) -> None:
    """`release()` on the server's event loop in `delay` seconds, unless one is due already."""
    global _pending
    if _pending:
        return
    _pending = True
    IOLoop.current().call_later(delay, release)
