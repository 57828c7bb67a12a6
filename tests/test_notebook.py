"""The README's notebook examples, run in a Jupyter kernel (nbclient): the tutorial displays the
explorer, Panel's loader reaches the notebook once, and the figures saved to HTML open offline."""
import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PANEL_DISPLAY = "application/vnd.holoviews_exec.v0+json"     # the mime type of a displayed Panel object


def readme_block(after: str) -> str:
    """The first ```python block of the README after the text `after`."""
    return README.split(after, 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


def loaders(cell) -> int:
    """Copies of Bokeh/Panel's loader script among a cell's outputs."""
    return sum("const force" in str(o.get("data", {}).get("application/javascript", "")) for o in cell.outputs)


def test_the_readme_examples_run_in_a_notebook_and_display_what_they_say(tmp_path):
    cells = [readme_block("<!-- tutorial -->"),                 # the two-Poisson tutorial, ending in explorer.App(model)
             readme_block("## The Python API"),                 # a session on the galaxies
             readme_block("**Figures for notebooks and papers.**"),
             "explorer.App(model)"]                             # a second explorer in the same notebook
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    tutorial, api, figures, again = notebook.cells
    for cell in notebook.cells:
        assert not [o for o in cell.outputs if o.output_type == "error"]

    printed = "".join(o.get("text", "") for o in tutorial.outputs if o.output_type == "stream")
    assert "6 checks passed, 0 failed" in printed
    shown = tutorial.outputs[-1]
    assert shown.output_type == "execute_result" and PANEL_DISPLAY in shown.data, "the tutorial displays the explorer"
    assert "text/html" in shown.data
    assert loaders(tutorial) == 1                     # Panel's scripts, once
    assert loaders(again) == 0 and PANEL_DISPLAY in again.outputs[-1].data
    assert api.outputs[-1].output_type == "execute_result"      # the states' JSON

    page = (tmp_path / "em.html").read_text()
    assert not re.findall(r"<script[^>]*\ssrc=", page), "the saved figure loads no script from elsewhere"
    assert "cdn.bokeh.org" not in page and len(page) > 1_000_000     # Bokeh's JavaScript is in the file
    assert (tmp_path / "em.png").stat().st_size > 10_000
    assert (tmp_path / "bound.svg").read_text().lstrip().startswith("<?xml")
