"""One server process among several: take waiting connections one at a time.

`panel serve --num-procs N` forks N processes that share one listening socket. Each wakes when
a connection waits, and Tornado's accept handler then takes up to 128 waiting connections in
one go (`tornado.netutil._DEFAULT_BACKLOG`, read each time the handler runs). Building a page
keeps a process busy for about 2 s, so when a class opens the link together, the process that
wakes after such a build takes every connection that queued meanwhile, and the others idle:
100 sessions on `--num-procs 2` measured p50 1.4 s a click, one process with 6 minutes of CPU
and the other 20 s.

Taking one connection per wake leaves the next one to whichever process is free first, so the
class spreads over the processes by how busy they are. One process alone loses nothing: it
still takes every waiting connection, one loop turn each.
"""
from __future__ import annotations

import logging

import tornado.netutil

log = logging.getLogger(__name__)

CONNECTIONS_PER_WAKE = 1


def accept_one_connection_per_wake() -> None:
    """Make this process's accept handler take one waiting connection each time it wakes."""
    if not isinstance(getattr(tornado.netutil, "_DEFAULT_BACKLOG", None), int):
        log.warning("this Tornado has no _DEFAULT_BACKLOG: with --num-procs, one process may "
                    "take a whole class's connections")
        return
    tornado.netutil._DEFAULT_BACKLOG = CONNECTIONS_PER_WAKE
