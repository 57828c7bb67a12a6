"""Pages prepared ahead (explorer/app/prepared.py): a page built from a prepared App is the page
built in its own session, and the pool prepares only when the process is idle, only for the
address last asked for, and hands each App to one page."""
import json
import re

import numpy as np
import pytest
from bokeh.document import Document
from panel.io.state import set_curdoc

from explorer.app import App
from explorer.app import prepared
from explorer.app.prepared import PreparedPages, address_key

EXAMPLES = "examples"


def normalised(doc: Document) -> str:
    """The page's JSON with its ids and Panel's numbered names replaced by their order of first
    appearance (two pages built apart differ in those alone)."""
    def plain(value):
        if hasattr(value, "content"):                 # a Serialized value
            return value.content
        if hasattr(value, "data") and hasattr(value, "id"):    # a binary buffer
            return bytes(value.data).hex()
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, (bytes, memoryview)):
            return bytes(value).hex()
        raise TypeError(type(value))
    text = json.dumps(doc.to_json(), sort_keys=True, default=plain)
    names: dict[str, str] = {}
    renamed = lambda m: names.setdefault(m.group(0), f"#{len(names)}")     # noqa: E731
    for pattern in (r"\bp\d{4,}\b", r"\b[A-Z][A-Za-z]+\d{5}\b", r"\b(?:main|nav|sidebar|header)-\d{6,}\b"):
        text = re.sub(pattern, renamed, text)
    return text


def served(app: App, steps: str = "") -> Document:
    """`app`'s page in a document, as the template serves it, after `steps` ("E", "M")."""
    doc = Document()
    with set_curdoc(doc):
        app.template().server_doc(doc)
        for step in steps:
            (app.state.e_step if step == "E" else app.state.m_step)()
    return doc


QUERIES = [{}, {"model": "gmm2d"}, {"model": "hmm", "family": "mean-field"},
           {"lesson": "variational-em", "ls": "3"}]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) or "default")
def test_a_page_from_a_prepared_app_is_the_page_built_in_its_session(query):
    fresh_doc = Document()
    with set_curdoc(fresh_doc):                    # as a page's script builds it: in its document
        fresh = App.from_args([], query=dict(query))
    ahead = App._prepared([], dict(query))         # outside any session, as the pool builds it
    assert ahead is not None
    assert normalised(served(ahead)) == normalised(served(fresh))
    assert normalised(served(App._prepared([], dict(query)), "EM")) == normalised(served(App.from_args([], query=dict(query)), "EM"))


def test_a_model_loaded_from_a_file_is_never_prepared(monkeypatch):
    """The app watches the model's file; a page must be built from its latest save."""
    argv = ["--model", f"{EXAMPLES}/zero_inflated_poisson.py:ZeroInflatedPoisson"]
    assert App._prepared(argv, {}) is None
    from explorer.app import app as app_module
    monkeypatch.setattr(app_module, "serve_this_process", lambda: None)     # the served process's settings stay out
    monkeypatch.setattr(prepared, "_process_pages", None)
    monkeypatch.setattr(PreparedPages, "start", lambda self: None)
    assert App.prepare_pages(argv).size == 0                       # not even tried
    monkeypatch.setattr(prepared, "_process_pages", None)
    assert App.prepare_pages(["--prepared-pages", "abc"]).size == 0     # wrong: each page says so


@pytest.mark.parametrize("size", ["-1", str(prepared.MOST_SIZE + 1)])
def test_a_pool_size_out_of_range_is_refused(size, capsys):
    with pytest.raises(SystemExit) as exit_:
        App.from_args(["--prepared-pages", size])
    assert exit_.value.code == 2 and "--prepared-pages must be in" in capsys.readouterr().err


class Machine:
    """A process's wall clock and CPU time, moved by the test."""

    def __init__(self):
        self.now, self.cpu_used = 100.0, 10.0

    def wait(self, seconds, busy=0.0):
        self.now += seconds
        self.cpu_used += busy


def pool(size=2, build=None, refuse=()):
    machine = Machine()
    built = []

    def make(query):
        if query.get("model") in refuse:
            return None
        built.append(query)
        return object() if build is None else build(query)
    pages = PreparedPages(make, size, clock=lambda: machine.now, cpu=lambda: machine.cpu_used)
    return pages, machine, built


def idle_ticks(pages, machine, n):
    for _ in range(n):
        machine.wait(prepared.TICK_SECONDS)
        pages.tick()


def test_the_pool_fills_when_idle_and_hands_each_app_to_one_page():
    pages, machine, built = pool(size=2)
    idle_ticks(pages, machine, 5)
    assert len(pages) == 2 and built == [{}, {}]          # the default screen, twice
    first, second = pages.take({}), pages.take({})
    assert first is not None and second is not None and first is not second
    assert pages.take({}) is None                          # none left: the page builds its own


def test_the_pool_waits_while_the_process_is_busy_or_pages_arrive():
    pages, machine, built = pool(size=2)
    for _ in range(10):                                    # busy: half of each tick on other work
        machine.wait(prepared.TICK_SECONDS, busy=prepared.TICK_SECONDS / 2)
        pages.tick()
    assert built == []
    idle_ticks(pages, machine, 1)
    assert len(built) == 1                                 # one a tick
    pages.take({})                                         # a page asked for: quiet a while
    idle_ticks(pages, machine, int(prepared.QUIET_SECONDS / prepared.TICK_SECONDS) - 1)
    assert len(built) == 1
    idle_ticks(pages, machine, 3)
    assert len(built) == 3 and len(pages) == 2


def test_the_pool_prepares_the_address_asked_for_most():
    """A class opens one link: after a few of its pages the pool prepares that address; one
    reload of the longer address a page writes into its URL does not move it."""
    pages, machine, built = pool(size=2)
    idle_ticks(pages, machine, 5)
    lesson = {"lesson": "variational-em", "ls": "1"}
    for _ in range(3):
        assert pages.take(lesson) is None                  # not prepared yet: each page builds its own
    pages.take({**lesson, "data": "rao", "frozen": ""})    # one student reloads the page's own URL
    idle_ticks(pages, machine, 12)
    assert built[-2:] == [lesson, lesson]
    assert [key for key, _, _ in pages._apps] == [address_key(lesson)] * 2    # the older address dropped first
    assert pages.take({"ls": "1", "lesson": "variational-em"}) is not None  # the same address, in another order


def test_the_pool_prepares_the_class_link_it_is_pinned_to_whatever_else_is_asked():
    """--prepare-for: the class's link, prepared from the start and kept whatever pages ask."""
    pages, machine, built = pool(size=2)
    lesson = {"lesson": "variational-em"}
    pages.pin(lesson)
    idle_ticks(pages, machine, 5)
    assert built == [lesson, lesson]
    for _ in range(5):
        pages.take({"model": "gmm2d"})
    idle_ticks(pages, machine, 12)
    assert built == [lesson, lesson] and pages.take(lesson) is not None


def test_a_page_prepared_from_files_since_changed_is_dropped():
    """A lesson or --against file saved after a page was prepared: the page is not handed out."""
    files = ["v1"]
    pages, machine, built = pool(size=2)
    pages.inputs = lambda: files[0]
    idle_ticks(pages, machine, 5)
    assert len(pages) == 2
    files[0] = "v2"                                        # a lesson file saved again
    assert pages.take({}) is None and len(pages) == 0
    idle_ticks(pages, machine, 12)
    assert pages.take({}) is not None                      # prepared again, from the new files


def test_the_ticks_run_outside_the_session_that_started_them():
    """Started from a page's script, the pool must not build in that page's session (Panel's
    current document): each App is built as no session's."""
    import asyncio
    from panel.io.state import state
    seen = []

    def build(query):
        seen.append(state._curdoc.get(None))
        return object()
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        pages = PreparedPages(build, 1)
        with set_curdoc(Document()):                       # as inside a page's script
            pages.start()
        loop.run_until_complete(asyncio.sleep(3 * prepared.TICK_SECONDS))
        pages._ticks.stop()
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert seen == [None]


def test_an_address_the_pool_cannot_prepare_is_not_tried_again():
    tried = []
    pages, machine, built = pool(size=2, refuse={"mine"})
    make = pages.build
    pages.build = lambda query: tried.append(query) or make(query)
    for _ in range(3):
        pages.take({"model": "mine"})
    idle_ticks(pages, machine, 20)
    assert tried.count({"model": "mine"}) == 1             # refused once, never tried again
    assert built == [{}, {}] and len(pages) == 2           # the default screen instead

    def failing(query):
        raise SystemExit(2)                                # a bad --args: the page says it
    pages, machine, built = pool(size=2, build=failing)
    idle_ticks(pages, machine, 20)
    assert built == [{}] and len(pages) == 0


def test_a_heavy_link_is_never_prepared():
    """Opened off the event loop with its progress shown (app.py): nothing to prepare."""
    pages, machine, built = pool(size=2)
    idle_ticks(pages, machine, 5)
    heavy = {"model": "gmm1d", "data": "synthetic", "n": "200000"}
    for _ in range(3):
        assert pages.take(heavy) is None
    pages.pin(heavy)
    idle_ticks(pages, machine, 20)
    assert all(query == {} for query in built)


def test_no_pool_prepares_nothing():
    pages, machine, built = pool(size=0)
    idle_ticks(pages, machine, 10)
    assert built == [] and pages.take({}) is None
