"""A server process takes one waiting connection each time it wakes, so forked processes share a class."""
import socket

import tornado.netutil
import tornado.process
from tornado.ioloop import IOLoop

from explorer.app import serving
from explorer.app.serving import accept_one_connection_per_wake, warn_if_pages_build_twice


def accepted_in_one_wake(monkeypatch, waiting: int) -> int:
    """Connections Tornado's accept handler takes in one wake, with `waiting` connections queued."""
    listener = tornado.netutil.bind_sockets(0, "127.0.0.1")[0]
    clients = [socket.create_connection(listener.getsockname()) for _ in range(waiting)]
    handlers, accepted = [], []
    loop = IOLoop(make_current=False)
    monkeypatch.setattr(IOLoop, "current", staticmethod(lambda instance=True: loop))
    monkeypatch.setattr(loop, "add_handler", lambda fd, handler, events: handlers.append(handler))
    try:
        tornado.netutil.add_accept_handler(listener, lambda connection, address: accepted.append(connection))
        handlers[0](listener, IOLoop.READ)          # the listening socket is readable: one wake
        return len(accepted)
    finally:
        for s in clients + accepted + [listener]:
            s.close()
        loop.close()


def test_a_forked_process_takes_one_waiting_connection_per_wake(monkeypatch):
    monkeypatch.setattr(tornado.netutil, "_DEFAULT_BACKLOG", tornado.netutil._DEFAULT_BACKLOG)
    accept_one_connection_per_wake()                      # the only process: Tornado's own way,
    assert accepted_in_one_wake(monkeypatch, 3) == 3      # every waiting connection at once
    monkeypatch.setattr(tornado.process, "task_id", lambda: 1)    # forked by --num-procs
    accept_one_connection_per_wake()
    assert accepted_in_one_wake(monkeypatch, 3) == 1


def test_a_forked_process_without_reuse_sessions_says_pages_build_twice(monkeypatch, caplog):
    monkeypatch.setattr(serving, "_warned_pages_build_twice", False)
    warn_if_pages_build_twice(reuse_sessions=False)             # the only process: every page
    assert not caplog.records                                   # reaches it twice, built once
    monkeypatch.setattr(tornado.process, "task_id", lambda: 0)  # forked by --num-procs
    warn_if_pages_build_twice(reuse_sessions=True)
    assert not caplog.records
    for _ in range(3):                                          # once a process, not a page
        warn_if_pages_build_twice(reuse_sessions=False)
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "--num-procs without --reuse-sessions: a page whose websocket reaches another process "
        "than its HTTP request is built twice; add --reuse-sessions"]


def test_sessions_ending_together_share_one_trim(monkeypatch):
    """Each ended session asks for a trim; those ending within its delay of each other get one."""
    import asyncio

    from explorer.app import serving

    trims = []
    monkeypatch.setattr(serving, "_malloc_trim", lambda pad: trims.append(pad))

    async def three_sessions_end():
        for _ in range(3):
            serving.give_memory_back_soon(0.05)
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)

    asyncio.run(three_sessions_end())
    assert trims == [0]


def test_what_is_loaded_before_the_first_page_leaves_the_collections_once(monkeypatch):
    """The modules' objects are frozen once per process; a page's objects, made after, are not:
    a cycle of theirs is still collected, also after a second page's call."""
    import gc
    import weakref

    class Node:
        pass

    monkeypatch.setattr(serving, "_frozen", False)
    threshold = gc.get_threshold()
    try:
        serving.tune_the_collector()
        frozen = gc.get_freeze_count()
        assert frozen > 1000                          # the loaded modules' objects
        assert gc.get_threshold() == (serving.YOUNG_OBJECTS_PER_COLLECTION, *threshold[1:])
        page = Node()
        page.me = page                                # a cycle: only the collector frees it
        gone = weakref.ref(page)
        del page
        serving.tune_the_collector()      # the next page: nothing more frozen
        assert gc.get_freeze_count() == frozen
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_a_served_process_skips_bokehs_callback_signature_checks():
    """Bokeh inspects each on_change callback's signature (630 a page open); served, it does not."""
    import pytest
    from bokeh.models import ColumnDataSource
    from bokeh.settings import settings

    def wrong(attr):                              # on_change calls with (attr, old, new)
        pass

    with pytest.raises(ValueError, match="signature"):
        ColumnDataSource().on_change("data", wrong)
    try:
        serving.skip_error_diagnostics()
        ColumnDataSource().on_change("data", wrong)           # not inspected
    finally:
        settings.perform_error_diagnostics.unset_value()
    with pytest.raises(ValueError, match="signature"):
        ColumnDataSource().on_change("data", wrong)


def test_a_served_process_skips_bokehs_document_validation():
    """Bokeh validates a page's models as it sends the page (bokeh.embed.util); served, it does not
    (tests/test_page_speedup.py runs the checks on every model's page instead)."""
    from bokeh.document import Document
    from bokeh.embed.util import OutputDocumentFor
    from bokeh.models import Row
    from bokeh.settings import settings

    doc, checked = Document(), []
    doc.add_root(Row())
    doc.validate = lambda: checked.append(True)
    with OutputDocumentFor(doc.roots):
        pass
    try:
        serving.skip_document_validation()
        with OutputDocumentFor(doc.roots):
            pass
    finally:
        settings.perform_document_validation.unset_value()
    assert checked == [True]
