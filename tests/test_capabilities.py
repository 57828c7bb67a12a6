"""Families, schedules and models declare what they can do; nothing asks for their names."""
import re
from pathlib import Path

import numpy as np
import pytest

from explorer import text
from explorer.cli import CHUNKED, main
from explorer.core.families import FAMILIES, Exact, Family
from explorer.core.landscape import LandscapeCalculator
from explorer.core.schedules import SCHEDULES, parse_schedule
from explorer.core.session import Session
from explorer.models import MODELS, make_model

ROOT = Path(__file__).resolve().parents[1] / "explorer"


class Posterior(Exact):
    """The exact family under another name: whatever reads `closes_gap` treats it as exact."""
    name = "posterior"


def test_a_family_that_closes_the_gap_is_read_as_such_whatever_its_name():
    session = Session(make_model("gmm1d"), seed=1)
    family = Posterior()
    assert "An E step closes the gap" in text.start_sentence(session.current, family)
    session.e_step()
    assert "q ← p(Z|X,θ)" in text.step_sentence(session.history[0], session.current, family)
    assert text.formula(session.current, family) == text.FORMULAS["E-exact"]
    # the landscape batches the grid through the posterior (the path the exact family takes)
    calls = []
    model = session.model
    original = model.grid_passes
    model.grid_passes = lambda thetas: calls.append(len(thetas)) or original(thetas)
    LandscapeCalculator(model, family, 7)._columns(session.current.theta, session.current.q, "means[0]")
    assert calls == [7]


def test_only_the_exact_family_closes_the_gap():
    assert {name for name, f in FAMILIES.items() if f.closes_gap} == {"exact"}


def test_a_family_with_neither_e_step_nor_run_is_refused_where_it_is_defined():
    with pytest.raises(TypeError, match="must define e_step.*or run"):
        class Nothing(Family):      # noqa: F841  (the old code looped forever at its first E step)
            name = "nothing"


def test_a_family_with_either_hook_works():
    class ByRun(Family):
        def run(self, model, theta, q):
            return model.posterior(theta), "by run"

    model = make_model("linkage")
    theta = model.start_theta(0)
    assert np.allclose(ByRun().e_step(model, theta, None), model.posterior(theta))


@pytest.mark.parametrize("name, settings, spelled", [
    ("em", {}, "em"), ("ecm", {}, "ecm"),
    ("gradient", {"step_size": 0.25}, "gradient:0.25"),
    ("incremental", {"block_size": 20, "block_order": "random"}, "incremental:20:random"),
    ("incremental", {"block_size": 7, "block_order": "cyclic"}, "incremental:7"),
])
def test_a_schedule_spells_itself_from_its_settings(name, settings, spelled):
    schedule = SCHEDULES[name]
    assert set(settings) == set(schedule.settings)
    assert schedule.spell(settings) == spelled
    assert parse_schedule(spelled).describe() == spelled


def test_every_schedule_declares_its_formula_and_words_and_only_em_is_the_em_map():
    for schedule in SCHEDULES.values():
        assert schedule.formula and schedule.words and schedule.title
    assert [name for name, s in SCHEDULES.items() if s.em_map] == ["em"]
    assert [name for name, s in SCHEDULES.items() if s.needs_block_e_step] == ["incremental"]


def test_chunked_offers_the_models_that_declare_it(tmp_path, capsys):
    """With a real data file, so that the refusal is coins' (a missing file also exits 2)."""
    assert set(CHUNKED) == {name for name, cls in MODELS.items() if cls.takes_chunks} == {"gmm1d", "gmm2d"}
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(0).normal(size=200))
    assert main(["chunked", "--model", "coins", "--data-file", str(path), "--iterations", "1"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'coins'" in err or "coins cannot take its data in chunks" in err, err
    assert main(["chunked", "--model", "gmm1d", "--data-file", str(path), "--iterations", "1"]) == 0
    assert "gmm1d on 200 rows" in capsys.readouterr().out


NAMED = re.compile(r"""(family|schedule)[\w.]*\s*[!=]=\s*["']|\.name\s*[!=]=\s*["'](exact|hard|mean-field|em|ecm|gradient|incremental)["']""")


def test_no_family_or_schedule_is_compared_by_its_name_outside_its_own_module():
    found = []
    for path in ROOT.rglob("*.py"):
        if path.name in ("families.py", "schedules.py") and path.parent.name == "core":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if NAMED.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "declare a capability instead of asking the name:\n" + "\n".join(found)


def test_the_landscape_calculator_is_built_in_one_place_outside_core():
    from explorer.core.picture import landscape_calculator
    built = [f"{path.relative_to(ROOT)}:{number}" for path in ROOT.rglob("*.py") if path.parent.name != "core"
             for number, line in enumerate(path.read_text().splitlines(), 1) if "LandscapeCalculator(" in line]
    assert not built, "build it with core.picture.landscape_calculator: " + ", ".join(built)
    model = make_model("hmm", synthetic={"n": 40, "seed": 8})
    calculator = landscape_calculator(model, "mean-field", 9)      # by name: bound to the model's own words
    assert calculator.family.formula == model.mean_field_formula and calculator.size == 9


def test_the_cli_lists_what_families_and_schedules_declare(capsys):
    import json
    assert main(["models", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["families"]["exact"]["closes_gap"] is True and out["families"]["hard"]["closes_gap"] is False
    assert out["schedules"]["incremental"]["settings"] == ["block_size", "block_order"]
    assert out["schedules"]["ecm"]["words"] == SCHEDULES["ecm"].words
    models = {m["name"]: m for m in out["models"]}
    assert models["regression-mixture"]["schedules"] == ["em", "ecm", "gradient", "incremental"]
    assert models["hmm"]["schedules"] == ["em", "ecm", "gradient"]
    assert [name for name, m in models.items() if m["takes_chunks"]] == list(CHUNKED)


def test_chunked_em_refuses_a_model_that_does_not_declare_it_before_reading_anything():
    from explorer.core.chunked import chunked_em
    from explorer.core.errors import ExplorerError
    with pytest.raises(ExplorerError, match="model bernoulli-mixture cannot take its data in chunks"):
        chunked_em(MODELS["bernoulli-mixture"], np.zeros((100, 64)), max_iterations=1)


def _app_modules():
    """The modules the floors of "one home for each concern" hold: the app, the views and the CLI."""
    for path in sorted(ROOT.rglob("*.py")):
        part = path.relative_to(ROOT).parts
        if part[0] in ("app", "views") or path.stem.startswith("cli"):
            yield path


def test_no_app_view_or_cli_module_over_450_lines_and_no_class_over_300():
    import ast
    long_modules, long_classes = [], []
    for path in _app_modules():
        text = path.read_text()
        if text.count("\n") > 450:
            long_modules.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines")
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 300:
                long_classes.append(f"{path.relative_to(ROOT)}: class {node.name}, "
                                    f"{node.end_lineno - node.lineno + 1} lines")
    assert not long_modules and not long_classes, "split by concern:\n" + "\n".join(long_modules + long_classes)


def test_nothing_outside_the_app_imports_it():
    """The library (core, models, views, plots, the standalone page, the CLI) never reaches up
    into the app; only the package's `explorer.App` opens it, when asked for."""
    found = []
    for path in ROOT.rglob("*.py"):
        inside = path.relative_to(ROOT).parts[0] == "app" or path.relative_to(ROOT) == Path("__init__.py")
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not inside and re.search(r"from \.+app\b|import explorer\.app|from explorer\.app", line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_a_watcher_of_several_settings_takes_every_event_of_a_batch():
    # param calls a watcher of several names with one event per name changed in one update: a
    # one-argument lambda raised TypeError when a lesson step set the data and the family at once
    # (the step's model was never set up)
    one_argument_of_many = re.compile(r"param\.watch\(\s*lambda\s+\w+\s*:[^\n]*,\s*\[")
    found = [f"{path.relative_to(ROOT)}:{n}" for path in ROOT.rglob("*.py")
             for n, line in enumerate(path.read_text().splitlines(), 1) if one_argument_of_many.search(line)]
    assert found == [], found
