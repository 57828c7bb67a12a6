"""Edit, save, see: a served model file changed on disk is reloaded in the open page, with the
checks' verdict, without reloading the page."""
import os
import shutil
import time
from pathlib import Path

from .conftest import ROOT, serve, stop


def save(path: Path, text: str):
    path.write_text(text)
    stamp = time.time() + 1
    os.utime(path, (stamp, stamp))


def test_saving_the_model_file_reloads_it_in_the_open_page(tmp_path, watched_page):
    path = tmp_path / "zip_model.py"
    shutil.copy(ROOT / "examples" / "zero_inflated_poisson.py", path)
    good = path.read_text()
    process, url = serve("--args", "--model", f"{path}:ZeroInflatedPoisson")
    try:
        page = watched_page
        page.goto(url)
        page.get_by_role("button", name="EM iteration", exact=True).click(timeout=60_000)
        page.get_by_text("State 2 of 2").first.wait_for(timeout=20_000)
        save(path, good.replace('new["lam"] = max(', 'new["lam"] = 1.3 * max('))     # a planted bug
        page.get_by_text("After the reload FAIL:").first.wait_for(timeout=30_000)
        assert page.get_by_text("State 2 of 2").first.is_visible()            # the same place
        page.wait_for_function("""() => Bokeh.documents.some(doc => [...doc.all_models].some(
            m => m.text === "E_q log p along lam"))""", timeout=30_000)                # its picture
        save(path, good.replace("def m_step(self, q, theta, frozen=frozenset()):", "def m_step(self, q"))
        page.get_by_text("The saved model could not be loaded (the last working version stays)").first.wait_for(
            timeout=30_000)
        save(path, good)                                                      # fixed
        page.get_by_text("After the reload the checks pass").first.wait_for(timeout=30_000)
        assert not page.watch.errors
    finally:
        stop(process)
