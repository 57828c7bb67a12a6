"""Bring your own model (issue 6): loading, the generic log-joint model, the debugger, and user
code that raises."""
import json
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest
from scipy.special import xlogy

import explorer
from explorer import LogJointModel, Param, Session, check_model, make_model
from explorer.app import App
from explorer.cli import main
from explorer.core.loading import load_model_class

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GOOD = ["exponential_mixture.py:ExponentialMixture", "zero_inflated_poisson.py:ZeroInflatedPoisson",
        "coins_log_joint.py:CoinsLogJoint"]


@pytest.mark.parametrize("spec", GOOD)
def test_each_example_passes_the_checks(spec, capsys):
    code = main(["check", str(EXAMPLES / spec)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAIL" not in out and "0 failed" in out


def test_the_buggy_model_fails_with_the_planted_bug_named(capsys):
    code = main(["check", str(EXAMPLES / "buggy_gmm.py:BuggyGMM"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["passed"] is False
    failed = {c["name"]: c for c in report["checks"] if not c["passed"]}
    m_step = next(c for name, c in failed.items() if name.startswith("the M step maximises"))
    assert "M step is not a maximiser: moving variances[" in m_step["message"]
    assert "raises E_q log p by" in m_step["message"]
    assert "key results 1 and 2" in m_step["breaks"]
    # the bug hides from the monotonicity check: log p still climbs (a generalized EM step)
    assert all(c["passed"] for c in report["checks"] if "never decreases" in c["name"])


def test_checks_catch_a_broken_e_step_and_a_broken_bound():
    class BadEntropy(load_model_class(f"{EXAMPLES}/zero_inflated_poisson.py:ZeroInflatedPoisson")):
        def entropy(self, q):
            return super().entropy(q) + 1.0          # F no longer equals log p after the E step

    report = check_model(BadEntropy(BadEntropy.load_dataset("counts")))
    first = report.checks[0]
    assert not first.passed and "after the E step F =" in first.message and "key result 1" in first.breaks

    class InflatedEntropy(BadEntropy):
        def entropy(self, q):
            return 3 * super(BadEntropy, self).entropy(q)   # F can now rise above log p

    report = check_model(InflatedEntropy(InflatedEntropy.load_dataset("counts")))
    second = report.checks[1]
    assert not second.passed and "above log p" in second.message and "key result 2" in second.breaks


def test_log_joint_model_converges_to_the_closed_form_mle():
    closed = Session(make_model("coins"), {"theta_A": 0.6, "theta_B": 0.5})
    closed.run(tol=1e-13, max_iterations=2000)
    twin_class = load_model_class(f"{EXAMPLES}/coins_log_joint.py:CoinsLogJoint")
    generic = Session(make_model(twin_class), {"theta_A": 0.6, "theta_B": 0.5})
    generic.run(tol=1e-13, max_iterations=2000)
    for key in ("theta_A", "theta_B"):
        assert float(generic.current.theta[key]) == pytest.approx(float(closed.current.theta[key]), abs=1e-6)
    assert generic.current.loglik == pytest.approx(closed.current.loglik, abs=1e-9)


def test_a_log_joint_model_can_be_built_from_a_function():
    data = np.array([[5, 10], [9, 10], [8, 10], [4, 10], [7, 10]], dtype=float)

    def log_joint(x, z, theta):
        p = theta["p"][z]
        return np.log(0.5) + xlogy(x[:, 0], p) + xlogy(x[:, 1] - x[:, 0], 1 - p)

    model = LogJointModel(data, params=[Param("p", (2,), "unit", "p")], latent_values=[0, 1], log_joint=log_joint)
    session = Session(model, {"p": [0.6, 0.5]})
    session.run(tol=1e-12)
    np.testing.assert_allclose(np.sort(session.current.theta["p"]), [0.51965, 0.79675], atol=1e-4)
    assert check_model(model).passed


def test_loading_errors_are_clear():
    with pytest.raises(explorer.ExplorerError, match="does not exist"):
        load_model_class("no/such/file.py:Model")
    with pytest.raises(explorer.ExplorerError, match="has no class 'Nope'"):
        load_model_class(f"{EXAMPLES}/buggy_gmm.py:Nope")
    with pytest.raises(explorer.ExplorerError, match="not a subclass of explorer.Model"):
        load_model_class("json:JSONDecoder")
    with pytest.raises(explorer.ExplorerError, match="cannot import module"):
        load_model_class("no_such_module_here:Model")


BROKEN = '''
import numpy as np
from explorer.models.coins import Coins

class Broken(Coins):
    def m_step(self, q, theta, frozen=frozenset()):
        return self.helper(q)

    def helper(self, q):
        raise RuntimeError("planted failure in the user's M step")
'''


def test_user_code_that_raises_gives_its_own_traceback(tmp_path, capsys):
    path = tmp_path / "broken_model.py"
    path.write_text(BROKEN)
    code = main(["trace", "--model", f"{path}:Broken", "--iterations", "2"])
    err = capsys.readouterr().err
    assert code == 3
    assert "planted failure" in err and "broken_model.py" in err and "in helper" in err
    assert "explorer/core" not in err and "session.py" not in err          # the user's frames only
    (tmp_path / "bad_import.py").write_text("import numpy\nraise ValueError('cannot even import')\n")
    code = main(["trace", "--model", f"{tmp_path / 'bad_import.py'}:X", "--iterations", "1"])
    err = capsys.readouterr().err
    assert code == 3 and "cannot even import" in err and "bad_import.py" in err


def test_the_app_shows_a_user_traceback_and_keeps_working(tmp_path):
    path = tmp_path / "broken_model.py"
    path.write_text(BROKEN)
    app = App(f"{path}:Broken")
    app.steps.buttons["E step"].clicks += 1
    app.steps.buttons["M step"].clicks += 1
    assert "planted failure" in app.state.message and "broken_model.py" in app.state.details
    from explorer.app.readout_view import readout_html
    assert "planted failure" in readout_html(app.state) and "broken_model.py" in readout_html(app.state)
    assert app.session.position == 1
    app.steps.buttons["Undo"].clicks += 1
    assert app.session.position == 0 and not app.state.message


def test_three_ways_in(monkeypatch):
    sys.path.insert(0, str(EXAMPLES))
    try:
        # 1. the server's command line
        app = App.from_args(["--model", f"{EXAMPLES}/zero_inflated_poisson.py:ZeroInflatedPoisson"])
        assert app.state.model_name == "zip" and app.state.dataset == "counts"
        # 2. the user's own Python: a class (with or without data) or an instance
        from exponential_mixture import ExponentialMixture
        data = np.random.default_rng(1).exponential(3.0, 200)
        for app in (App(ExponentialMixture), App(ExponentialMixture, data=data), App(ExponentialMixture(data))):
            app.state.em_iteration()
            assert app.state.model_name == "exponential-mixture" and not app.state.message
        # 3. an installed package's entry point
        point = EntryPoint(name="expmix", value="exponential_mixture:ExponentialMixture", group="explorer.models")
        monkeypatch.setattr("explorer.core.loading.entry_points", lambda group: [point])
        assert "exponential-mixture" in App().state.param.model_name.objects
        assert "exponential-mixture" in explorer.models.available_models()
    finally:
        sys.path.remove(str(EXAMPLES))


def test_check_command_in_a_fresh_process():
    done = subprocess.run([sys.executable, "-m", "explorer", "check", "examples/buggy_gmm.py:BuggyGMM"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and "FAIL" in done.stdout and "Traceback" not in done.stderr


def test_app_checks_panel():
    app = App(f"{EXAMPLES}/buggy_gmm.py:BuggyGMM")
    app.controls.check.clicks += 1
    report = app.controls.check_report.object
    assert "Some checks fail" in report and "moving variances[" in report and "FAIL" in report
    app = App("coins")
    app.controls.check.clicks += 1
    assert "All checks pass" in app.controls.check_report.object


def test_the_debugger_catches_an_m_step_that_ignores_frozen():
    """Nothing is frozen by default for gmm1d, so only a check with each parameter frozen alone
    sees an M step that ignores `frozen`."""
    from explorer.models.gmm1d import GMM1D

    class IgnoresFrozen(GMM1D):
        def m_step(self, q, theta, frozen=frozenset()):
            return super().m_step(q, theta, frozenset())

    report = explorer.check_model(explorer.make_model(IgnoresFrozen))
    failed = [c for c in report.checks if not c.passed]
    assert [c.name for c in failed] == ["the M step keeps each parameter frozen alone, and still maximises "
                                        "over the others"]
    assert "with only weights frozen" in failed[0].message and "changed the frozen parameter" in failed[0].message
    assert "cannot see" in report.text() and explorer.check_model(explorer.make_model("gmm1d")).passed


def test_check_against_a_second_implementation(capsys):
    from explorer.cli import main
    code = main(["check", "coins", "--against", f"{EXAMPLES}/coins_log_joint.py:CoinsLogJoint", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["passed"] and len(out["checks"]) == 3
    code = main(["check", "gmm1d", "--against", f"{EXAMPLES}/buggy_gmm.py:BuggyGMM", "--json"])
    out = json.loads(capsys.readouterr().out)
    failed = [c for c in out["checks"] if not c["passed"]]
    assert code == 1 and [c["name"] for c in failed] == ["the M step agrees"]
    assert "first disagreement at variances[" in failed[0]["message"]


def test_a_model_with_two_options_is_told_the_page_sets_only_the_first():
    """The page has one option control: a custom model that declares two had its second kept
    at its default without a word."""
    from explorer.app import ExplorerState
    from explorer.core.model import Option
    from explorer.models.gmm1d import GMM1D

    class TwoOptions(GMM1D):
        name = "two-options"
        option_specs = GMM1D.option_specs + (Option("B", 4, 1, 9, "an extra option"),)

    state = ExplorerState(TwoOptions)
    assert state.model.options["B"] == 4
    assert [n for n in state.notes if n.startswith("The page sets the option K")] == [
        "The page sets the option K; model two-options also declares B = 4, kept as they are "
        "(the command line's --option sets every option)"]
    state.set(option=3)
    assert state.model.K == 3 and len([n for n in state.notes if "also declares" in n]) == 1
    assert not [n for n in ExplorerState("gmm1d").notes if "also declares" in n]
