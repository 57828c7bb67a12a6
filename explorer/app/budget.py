"""A session's budget on a shared server (README, "A session's budget").

Work: a session holds at most MAX_POINTS data points (synthetic or uploaded; numpy holds the
interpreter for up to a few hundredths of a second per 10⁵ points in some of its calls, which
other sessions wait out); a link replays at most MAX_STEPS half steps, and at most REPLAY_WORK
data points × half steps (2·10⁵ points: 100 half steps). Memory: the history keeps q within
APP_HISTORY_BUDGET bytes. A session with more than LARGE_POINTS data points is large: a server
process holds at most MAX_LARGE_SESSIONS of them at a time (another is told the server is busy).
"""
from __future__ import annotations

import gc
import weakref

from ..core.errors import ExplorerError
from ..screen import MAX_STEPS, SYNTHETIC, count_steps, plain_query

MAX_POINTS = 200_000
REPLAY_WORK = 20_000_000
APP_HISTORY_BUDGET = 128 * 2**20
LARGE_POINTS = 50_000
MAX_LARGE_SESSIONS = 2
PICTURE_POINTS = 20_000      # past this many data points, a session's pictures are drawn off the event loop

__all__ = ["APP_HISTORY_BUDGET", "LARGE_POINTS", "LARGE_SESSIONS", "LargeSessions", "MAX_LARGE_SESSIONS",
           "MAX_POINTS", "MAX_STEPS", "PICTURE_POINTS", "REPLAY_WORK", "data_points", "heavy_link", "replay_limit"]


class LargeSessions:
    """The large sessions of this server process (a weak set: a state that is gone holds none)."""

    def __init__(self, limit: int = MAX_LARGE_SESSIONS):
        self.limit = limit
        self._holders = weakref.WeakSet()

    def admit(self, holder, points: int) -> None:
        """Let `holder` hold data of `points` points, or raise ExplorerError (the server is busy)."""
        if points <= LARGE_POINTS or holder in self._holders:
            return
        if len(self._holders) >= self.limit:
            gc.collect()                # a state no page shows any more may wait for the collector
        if len(self._holders) >= self.limit:
            raise ExplorerError(
                f"the server is busy: it holds {len(self._holders)} sessions with more than "
                f"{LARGE_POINTS:,} data points, its limit; choose {LARGE_POINTS:,} points or fewer, "
                f"or try again in a few minutes")
        self._holders.add(holder)

    def release(self, holder) -> None:
        """`holder` holds no data any more (None, a screen that was never built, holds none)."""
        if holder is not None:          # WeakSet.discard(None) raises TypeError
            self._holders.discard(holder)

    def transfer(self, old, new) -> None:
        """`new` takes `old`'s place (a screen built aside, then adopted)."""
        if old in self._holders:
            self._holders.discard(old)
            self._holders.add(new)
        elif new in self._holders and data_points(new.model) <= LARGE_POINTS:
            self._holders.discard(new)

    def __len__(self):
        return len(self._holders)


LARGE_SESSIONS = LargeSessions()    # process-wide by nature: every session of this process counts


def data_points(model) -> int:
    """How many data points (rows) a model holds (0 if its data has no length)."""
    try:
        return len(getattr(model, "data", None))
    except TypeError:
        return 0


def heavy_link(query: dict) -> bool:
    """Whether opening a link takes long enough to be done off the event loop: many half steps
    to replay, or large synthetic data (a guess from the query alone, before anything is built)."""
    query = plain_query(query)
    try:
        steps = count_steps(query.get("steps", ""))
    except ExplorerError:
        steps = 0
    n = query.get("n", "")
    points = int(n) if query.get("data") == SYNTHETIC and n.isdigit() else 1_000     # built-in data: ~1,000 at most
    return points > PICTURE_POINTS or steps * points > 200_000      # about 0.2 s of half steps


def replay_limit(points: int) -> int:
    """The most half steps a link may replay on data of `points` points."""
    return max(1, min(MAX_STEPS, REPLAY_WORK // max(points, 1)))
