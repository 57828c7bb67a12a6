"""Whatever a link, an upload or a lesson file carries is shown as text: injection payloads sent
through every URL key, an upload's file name and CSV header, and a lesson file (its name, titles,
caption, formula and screen) run no script and add no node to the page.

One server (with a folder of lessons holding a payload-laden lesson), a few pages. A payload
that ran would open a dialog (alert), raise a page error, or leave an element with an event
handler or a javascript: address in the page (looked for inside the shadow roots too).
"""
import json
import re

import pytest

from explorer.screen import URL_KEYS

from .conftest import PageWatch, serve, stop

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "\"><svg onload=alert(3)>",
    "'><img src=x onerror=alert(4)>",
    "javascript:alert(5)",
    "<iframe src=javascript:alert(6)></iframe>",
    "<a href=javascript:alert(7)>link</a>",
    "</textarea></title><img src=x onerror=alert(8)>",
    "<details open ontoggle=alert(9)>",
    "<svg><animate onbegin=alert(10) attributeName=x dur=1s>",
    "<math><mi xlink:href=javascript:alert(11)>m</mi></math>",
    "${alert(12)}{{constructor.constructor('alert(13)')()}}",
]
CORPUS = "".join(PAYLOADS)
# A file name cannot hold "/": the payloads without one.
NAME_CORPUS = "".join(p for p in PAYLOADS if "/" not in p)

# Elements a payload would leave: any event-handler attribute or javascript: address, a script
# or frame we did not write; searched through the document and every open shadow root.
INJECTED_JS = """() => {
  const found = [];
  const visit = (root) => {
    for (const el of root.querySelectorAll('*')) {
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase(), value = (attr.value || '').toLowerCase();
        if ((name.startsWith('on') && value.includes('alert(')) ||
            (['src', 'href', 'xlink:href', 'action', 'formaction'].includes(name) && value.startsWith('javascript:')))
          found.push(el.tagName + ' ' + name + '=' + attr.value);
      }
      if (el.tagName === 'SCRIPT' && (el.textContent || '').includes('alert('))
        found.push('SCRIPT ' + el.textContent);
      if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') found.push('IMG src=x');
      if (el.shadowRoot) visit(el.shadowRoot);
    }
  };
  visit(document);
  return found;
}"""


@pytest.fixture(scope="module")
def lesson_server(tmp_path_factory):
    """The app with a folder of lessons holding one whose name and every field carry payloads."""
    folder = tmp_path_factory.mktemp("lessons")
    screen = {key: CORPUS for key in ("data", "K", "family", "schedule", "theta0", "frozen", "coord", "x")}
    lesson = {"title": CORPUS, "steps": [
        {"title": CORPUS, "caption": CORPUS, "formula": "KL<sub>q</sub> " + CORPUS,
         "screen": {"model": "gmm1d", **screen, "steps": "EM2"}},
        {"title": "two", "caption": "the second step", "screen": {"model": CORPUS}}]}
    (folder / f"{NAME_CORPUS}.json").write_text(json.dumps(lesson))
    process, url = serve("--args", "--lessons", str(folder))
    yield url
    stop(process)


class Watched:
    """A page of the server with every dialog, page error and console error recorded."""

    def __init__(self, browser):
        self.page = browser.new_page()
        self.dialogs = []
        self.watch = PageWatch(self.page)
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, url):
        self.page.goto(url)
        self.page.get_by_role("button", name="E step", exact=True).wait_for(timeout=60_000)
        self.page.get_by_text(re.compile(r"State \d+ of \d+")).first.wait_for(timeout=60_000)
        self.page.wait_for_timeout(1500)          # an <img src=x> has had time to fail

    def assert_clean(self):
        injected = self.page.evaluate(INJECTED_JS)
        assert not self.dialogs, f"a payload opened a dialog: {self.dialogs}"
        assert not injected, f"a payload left elements in the page: {injected}"
        assert not [e for e in self.watch.errors if "page error" in e], self.watch.errors

    def shown(self, text) -> int:
        """How many places show `text` as text (not as markup)."""
        return self.page.get_by_text(text, exact=False).count()


def link(url, query: dict) -> str:
    from urllib.parse import urlencode
    return f"{url}?{urlencode(query)}"


def test_payloads_in_every_url_key_are_shown_as_text(lesson_server, browser):
    page = Watched(browser)
    page.open(link(lesson_server, {"model": "gmm1d", "frozen": PAYLOADS[0]}))   # the link
    page.assert_clean()
    keys = {key: CORPUS for key in URL_KEYS.values() if key != "model"}
    page.open(link(lesson_server, {"model": "gmm1d", **keys, "steps": CORPUS, "at": CORPUS, "ls": CORPUS,
                                   "lesson": CORPUS, "preset": CORPUS, CORPUS: CORPUS}))
    page.assert_clean()
    assert page.shown("frozen='<img src=x onerror=alert(1)>") == 1      # the note, in the user's words
    assert page.shown("coord='<img src=x onerror=alert(1)>") == 1
    page.open(link(lesson_server, {"model": CORPUS}))                  # a model that does not exist
    page.assert_clean()
    assert page.shown("model='<img src=x onerror=alert(1)>") == 1
    page.page.close()


def test_payloads_in_an_uploads_name_and_header_are_shown_as_text(lesson_server, browser):
    page = Watched(browser)
    page.open(link(lesson_server, {"model": "gmm1d"}))
    chooser = page.page.locator("input[type=file]")
    rows = "\n".join(str(v) for v in [1.0, 1.2, 0.9, 5.0, 5.3, 4.8, 1.1, 5.1, 0.95, 5.2])
    header = CORPUS.replace(",", ";").replace('"', "'")
    chooser.set_input_files(files=[{"name": f"{NAME_CORPUS}.csv", "mimeType": "text/csv",
                                    "buffer": f"{header}\n{rows}".encode()}])
    page.page.get_by_text(re.compile(r"Uploaded .*: 10 rows\.")).wait_for(timeout=30_000)
    page.page.wait_for_timeout(1500)
    page.assert_clean()
    chooser.set_input_files(files=[{"name": f"{NAME_CORPUS}.csv", "mimeType": "text/csv",
                                    "buffer": f"{header}\n1.0\n{CORPUS.replace(',', ';')}\n".encode()}])
    page.page.get_by_text(re.compile(r"The upload was not used")).first.wait_for(timeout=30_000)
    page.page.wait_for_timeout(1500)
    page.assert_clean()
    page.page.close()


def test_a_lesson_files_payloads_are_shown_as_text(lesson_server, browser):
    page = Watched(browser)
    page.open(link(lesson_server, {"lesson": NAME_CORPUS}))
    page.assert_clean()
    assert page.shown("KL") >= 1 and page.page.locator(".formula sub").count() >= 1   # notation kept
    page.page.get_by_role("button", name="Next ▶").click()
    page.page.get_by_text("the second step").wait_for(timeout=30_000)
    page.page.wait_for_timeout(1500)
    page.assert_clean()
    page.page.close()
