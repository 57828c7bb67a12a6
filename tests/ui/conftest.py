"""Browser tests: the served app (`panel serve apps/explorer.py`) in headless Chromium.

Playwright cannot download its own browser here, so the system's Chromium is used
(`EXPLORER_CHROMIUM`, default /usr/bin/chromium). Without it the tests are skipped, except
under CI (the CI variable set), where a missing browser is a failure.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("EXPLORER_CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI needs Chromium at {CHROMIUM} for the browser tests")
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (set EXPLORER_CHROMIUM)")
    for item in items:
        if "tests/ui" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(*extra_args) -> tuple[subprocess.Popen, str]:
    """The app served on a free local port. Its log goes to a file: a pipe nobody reads fills
    up after some hundred log lines and then blocks the server (the tests would hang)."""
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="panel-serve-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", str(ROOT / "apps" / "explorer.py"), "--port", str(port),
         "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}", *extra_args],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
    process.log_path = log.name
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"panel serve exited:\n{log.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, f"http://127.0.0.1:{port}/explorer"
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("panel serve did not start within 60 s")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def app_url():
    process, url = serve()
    yield url
    stop(process)


@pytest.fixture(scope="session")
def custom_app_url():
    """The app served with a user's model from the command line."""
    process, url = serve("--args", "--model", "examples/zero_inflated_poisson.py:ZeroInflatedPoisson")
    yield url
    stop(process)


class PageWatch:
    """Console errors and page errors of local origin; requests to other hosts are aborted
    (the template asks for a web font, and this machine has no internet)."""

    def __init__(self, page):
        self.errors = []
        self.elsewhere = []          # requests to other hosts (aborted): a lecture hall may be offline
        page.route("**/*", self._route)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _route(self, route):
        if is_local(route.request.url):
            route.continue_()
        else:
            self.elsewhere.append(route.request.url)
            route.abort()

    def _console(self, message):
        if message.type == "error" and is_local(message.location.get("url", "") or "http://127.0.0.1"):
            self.errors.append(f"console: {message.text}")


def is_local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "data:", "blob:"))


@pytest.fixture
def watched_page(page):
    watch = PageWatch(page)
    page.watch = watch
    return page
