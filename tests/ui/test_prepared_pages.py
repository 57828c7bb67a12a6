"""Pages prepared while the server is idle (explorer/app/prepared.py), in Chromium, served as the
class command serves them (--reuse-sessions): a prepared page steps and reads as the same screen
built for its own link, two prepared pages are two sessions with nothing shared, and no page asks
another host for anything."""
import re
import time
from pathlib import Path

import pytest

from .conftest import ROOT, PageWatch, serve, stop
from .test_explorer_ui import click, numbers_text, wait_for_app


@pytest.fixture(scope="module")
def preparing_server():
    process, url = serve("--reuse-sessions", "--setup", str(ROOT / "apps" / "prepare_pages.py"),
                         "--args", "--prepared-pages", "2")       # as the class command (README)
    yield process, url
    stop(process)


def log_of(process) -> str:
    return Path(process.log_path).read_text(errors="replace")


def wait_for_log(process, text, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in log_of(process):
            return
        time.sleep(0.3)
    raise AssertionError(f"the server never said {text!r}:\n{log_of(process)[-3000:]}")


def test_prepared_pages_step_as_their_links_and_share_nothing(preparing_server, browser):
    process, url = preparing_server
    wait_for_log(process, "2 pages prepared for the default screen")       # from the server's start
    first, second = browser.new_page(), browser.new_page()
    for page in (first, second):
        page.watch = PageWatch(page)
        page.goto(url)
        wait_for_app(page)
    assert log_of(process).count("a page of the default screen from the prepared ones") == 2
    click(first, "E step", 1)
    click(first, "M step", 2)
    click(first, "EM iteration", 4)
    assert second.get_by_text(re.compile(r"State 0 of 0")).count() >= 1      # its own session
    link = first.evaluate("() => window.location.href")                   # the screen's own link
    assert link != url and "steps=" in link
    fresh = browser.new_page()
    fresh.watch = PageWatch(fresh)
    fresh.goto(link)                                                       # built in its session
    wait_for_app(fresh)
    fresh.get_by_text(re.compile(r"State 4 of 4")).first.wait_for(timeout=20_000)
    assert numbers_text(fresh) == numbers_text(first)
    click(second, "E step", 1)
    assert numbers_text(second) != numbers_text(first)
    for page in (first, second, fresh):
        assert not page.watch.errors, page.watch.errors
        # with --reuse-sessions every page after the first asked Panel's CDN for its style sheets
        assert page.watch.elsewhere == [], page.watch.elsewhere[:5]
        page.close()
    assert not re.search(r"Traceback|Exception|ERROR|BokehUserWarning", log_of(process))
