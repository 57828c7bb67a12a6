"""The README's commands are what CI runs, and the package ships its data."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    return re.findall(r"^    (python -m pip install .*)$", (ROOT / "README.md").read_text(), re.M)


def test_ci_runs_the_readme_test_command():
    commands = readme_commands()
    assert len(commands) == 2
    test_command = next(c for c in commands if "pytest" in c)
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_the_package_ships_its_data_with_provenance():
    from explorer.datasets import builtin_table, builtin_text
    header, values = builtin_table("faithful.csv")
    assert header == ["eruptions", "waiting"] and values.shape == (272, 2)
    assert builtin_table("galaxies.csv")[1].shape == (82, 1)
    assert "Azzalini" in builtin_text("PROVENANCE.md")


def test_core_and_models_never_import_the_plotting_stack():
    for folder in ("core", "models", "datasets"):
        for path in (ROOT / "explorer" / folder).glob("*.py"):
            text = path.read_text()
            for name in ("panel", "holoviews", "bokeh"):
                assert not re.search(rf"^\s*(import|from)\s+{name}\b", text, re.M), (path, name)


def test_the_readme_tutorial_runs(capsys):
    text = (ROOT / "README.md").read_text()
    code = text.split("<!-- tutorial -->", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    exec(compile(code, "README tutorial", "exec"), {"__name__": "readme_tutorial"})
    out = capsys.readouterr().out
    assert "0 failed" in out


def test_environment_yml_pins_the_patched_libraries_as_pyproject_does():
    """The app patches Panel's, Bokeh's and Tornado's internals, so conda users need the same
    bounds as pip users (environment.yml had panel>=1.5,<2 and bokeh>=3.4, no tornado)."""
    pip = dict(re.findall(r'^\s*"(panel|bokeh|tornado)([<>=,.\d]+)"', (ROOT / "pyproject.toml").read_text(), re.M))
    conda = dict(re.findall(r"^\s*- (panel|bokeh|tornado)([<>=,.\d]+)", (ROOT / "environment.yml").read_text(), re.M))
    assert set(pip) == {"panel", "bokeh", "tornado"} and conda == pip


def test_the_readmes_model_flag_lists_every_model():
    from explorer.models import MODELS
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `--model NAME`"))
    assert re.findall(r"`([\w-]+)`", row.split("(")[0]) == list(MODELS)
