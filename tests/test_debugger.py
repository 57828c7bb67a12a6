"""The EM debugger as a researcher meets it: the README's two-Poisson mixture
(tests/fixtures/poisson_mixture.py) with one bug planted at a time. Every planted bug must be
found, named (the method, the θ) and reported on its own; nothing non-finite passes."""
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import gammaln

import explorer
import explorer.app
from explorer.cli import main
from explorer.core.checks import KEY_1, KEY_2, M_HALF, MONOTONE, check_model
from explorer.core.errors import ExplorerError, ModelValueError
from explorer.core.loading import load_model_class

FIXTURE = Path(__file__).parent / "fixtures" / "poisson_mixture.py"
SOURCE = FIXTURE.read_text()
CLASS = "PoissonMixture"

NAN_LOGLIK = ("    def n_classes(self):", "    def loglik(self, theta):\n        return float('nan')\n\n"
                                           "    def n_classes(self):")
NAN_LOG_JOINT = ('return np.log(theta["weights"])[:, None] + x', 'return np.nan * x + np.log(theta["weights"])[:, None] + x')
NAN_M_STEP = ('new["rates"] = (q @ self.data) / counts', 'new["rates"] = (q @ self.data) / counts * np.nan')
NAN_POSTERIOR = ("    def n_classes(self):", "    def posterior(self, theta):\n        return np.full((2, len(self.data)), "
                                               "np.nan)\n\n    def n_classes(self):")
# log x! subtracted twice in an own loglik: log p lies below F by Σ log x_i!, so KL < 0
KL_BELOW_ZERO = ("    def n_classes(self):", "    def loglik(self, theta):\n        return super().loglik(theta) - "
                                               "gammaln(self.data + 1).sum()\n\n    def n_classes(self):")
RAISES_IN_M_STEP = ("        counts, new = q.sum(axis=1), dict(theta)",
                    "        counts, new = q.sum(axis=1), dict(theta)\n        raise ZeroDivisionError('planted in m_step')")
NO_INIT_THETA = ("    def init_theta(self, rng):", "    def init_theta_old(self, rng):")
NO_M_STEP = ("    def m_step(self, q", "    def m_step_old(self, q")


def planted(tmp_path, *edits, name="buggy") -> str:
    """A copy of the fixture with the edits made; its spec `path:PoissonMixture`."""
    text = SOURCE
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return f"{path}:{CLASS}"


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def failed(report):
    return [c for c in report.checks if not c.passed]


def test_the_fixture_is_the_readme_tutorial_class_and_passes_every_check():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    tutorial = readme.split("<!-- tutorial -->", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    in_readme = tutorial.split(f"class {CLASS}", 1)[1].split("\nrng = ", 1)[0].strip()
    assert SOURCE.split(f"class {CLASS}", 1)[1].strip() == in_readme
    report = check_model(explorer.make_model(load_model_class(f"{FIXTURE}:{CLASS}")))
    assert report.passed and not report.raised


# ----- 1. a non-finite value is a finding, naming the method and θ -------------------------------------
def test_a_nan_loglik_fails_the_checks_and_names_loglik_and_theta(tmp_path, capsys):
    spec = planted(tmp_path, NAN_LOGLIK)
    report = check_model(explorer.make_model(spec))
    assert not report.passed
    first = report.checks[0]
    assert not first.passed and first.breaks == KEY_1
    assert first.message.startswith("loglik(θ) returned nan")
    theta = json.loads(first.message.split("at θ = ", 1)[1])
    assert set(theta) == {"weights", "rates"} and sum(theta["weights"]) == pytest.approx(1)
    code, out, err = run(["check", spec], capsys)
    assert code == 1 and "FAIL  the posterior normalises" in out


def test_trace_stops_on_a_nan_log_p_with_status_3_instead_of_printing_nan(tmp_path, capsys):
    code, out, err = run(["trace", "--model", planted(tmp_path, NAN_LOGLIK), "--iterations", "2"], capsys)
    assert code == 3
    assert out == "" and "nan" not in out
    assert err.startswith("error: loglik(θ) returned nan") and '"rates": [' in err


def test_a_nan_from_log_joint_is_blamed_on_log_joint_not_on_the_parameters(tmp_path, capsys):
    spec = planted(tmp_path, NAN_LOG_JOINT)
    code, out, err = run(["trace", "--model", spec, "--iterations", "1"], capsys)
    assert code == 3, err
    assert "must be finite" not in err
    assert err.startswith("error: log_joint(θ) gave a value that is NaN") and "for point 1" in err
    report = check_model(explorer.make_model(spec))
    posterior_check = next(c for c in report.checks if c.name.startswith("the posterior normalises"))
    assert not posterior_check.passed and "log_joint(θ)" in posterior_check.message
    assert all(not c.passed and "log_joint(θ)" in c.message for c in report.checks)
    assert not report.raised            # a value found, not a traceback: no frames of ours shown
    code, out, err = run(["check", spec], capsys)
    assert code == 1 and "Traceback" not in out + err


def test_a_nan_from_m_step_names_m_step_and_the_theta_it_was_called_with(tmp_path, capsys):
    model = explorer.make_model(planted(tmp_path, NAN_M_STEP))
    session = explorer.Session(model, seed=0)
    session.e_step()
    with pytest.raises(ModelValueError) as caught:
        session.m_step()
    message = str(caught.value)
    assert message.startswith("m_step(q, θ, frozen) returned rates = [nan, nan]")
    called_with = json.loads(message.split("at θ = ", 1)[1])
    assert called_with["rates"] == pytest.approx(session.current.theta["rates"].tolist())
    m_check = next(c for c in check_model(model).checks if c.name.startswith("the M step maximises"))
    assert not m_check.passed and "m_step(q, θ, frozen)" in m_check.message


def test_a_nan_posterior_fails_the_e_step_check_naming_posterior(tmp_path, capsys):
    spec = planted(tmp_path, NAN_POSTERIOR)
    report = check_model(explorer.make_model(spec))
    assert report.checks[0].name.startswith("the posterior normalises") and not report.checks[0].passed
    assert report.checks[0].message.startswith("posterior(θ) gave a q with entries that are NaN")
    code, _, err = run(["trace", "--model", spec, "--iterations", "1"], capsys)
    assert code == 3 and "posterior(θ)" in err


def test_trace_warns_when_kl_falls_below_zero(tmp_path, capsys):
    spec = planted(tmp_path, KL_BELOW_ZERO)
    code, out, _ = run(["trace", "--model", spec, "--iterations", "1", "--json"], capsys)
    assert code == 0
    model = explorer.make_model(spec)
    for state in json.loads(out)["states"]:
        assert state["kl"] < 0
        expected = -gammaln(model.data + 1).sum()       # the planted error: KL = −Σ log x_i! after an E step
        if state["kind"] == "E":
            assert state["kl"] == pytest.approx(expected, rel=1e-9)
        assert any(w.startswith(f"KL = {state['kl']:.6g} < 0") and "key result 2" in w for w in state["warnings"])
    report = check_model(model)
    assert [c.breaks for c in failed(report)] == [KEY_1, KEY_2]


def test_a_correct_model_has_no_kl_warning():
    session = explorer.Session(explorer.make_model(load_model_class(f"{FIXTURE}:{CLASS}")), seed=0)
    for _ in range(5):
        session.iterate()
    assert all(not s.warnings for s in session.states)


# ----- 3. the contract says what is required -----------------------------------------------------------
@pytest.mark.parametrize("edit, missing", [(NO_INIT_THETA, "init_theta"), (NO_M_STEP, "m_step")])
def test_a_class_missing_a_required_method_is_refused_on_load_with_what_to_write(tmp_path, capsys, edit, missing):
    spec = planted(tmp_path, edit)
    with pytest.raises(ExplorerError) as caught:
        load_model_class(spec)
    message = str(caught.value)
    assert message.startswith(f"{CLASS} does not write {missing},")
    required = message.split("A LatentClassModel writes:", 1)[1].split("and may write:")[0]
    assert [line.split("(")[0].strip() for line in required.strip().splitlines()] == \
        ["validate_data", "params", "m_step", "init_theta", "log_joint", "n_classes"]
    assert "simulate(θ, n, rng)" in message.split("and may write:")[1]
    for command in (["check", spec], ["trace", "--model", spec, "--iterations", "1"]):
        code, out, err = run(command, capsys)
        assert code == 2 and err.startswith(f"error: {CLASS} does not write {missing}") and "Traceback" not in err


def test_the_app_refuses_a_class_missing_a_required_method_in_the_page(tmp_path):
    from explorer.app.app import App
    app = App.from_args(["--model", planted(tmp_path, NO_M_STEP)])
    assert "does not write m_step" in app.state.message and "A LatentClassModel writes" in app.state.message
    with pytest.raises(ExplorerError, match="does not write m_step"):
        explorer.make_model(_class_without_check(tmp_path))       # explorer.App(MyClass) builds it so


def _class_without_check(tmp_path, edit=NO_M_STEP):
    """The class itself, imported as a user's Python would (not through load_model_class)."""
    import importlib.util
    path = Path(planted(tmp_path, edit, name="direct").rpartition(":")[0])
    spec = importlib.util.spec_from_file_location("direct_import", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, CLASS)


def test_the_built_in_models_and_base_classes_say_what_they_need():
    from explorer.core.model import missing_methods
    assert all(missing_methods(cls) == [] for cls in explorer.MODELS.values())
    assert missing_methods(explorer.LatentClassModel) == ["validate_data", "params", "m_step", "init_theta",
                                                          "log_joint", "n_classes"]
    model = explorer.LogJointModel(np.arange(5.0), params=[explorer.Param("rate", (), "positive", "r")],
                                   latent_values=[0], log_joint=lambda x, z, t: -t["rate"] + x * np.log(t["rate"]))
    assert missing_methods(model) == []


# ----- 5. a class with simulate() and no data runs on simulated data --------------------------------------
def test_check_and_the_app_run_a_class_with_simulate_and_no_data(capsys):
    cls = load_model_class(f"{FIXTURE}:{CLASS}")
    code, out, err = run(["check", f"{FIXTURE}:{CLASS}"], capsys)
    assert code == 0, err
    data = cls.synthetic(n=200, seed=3)
    assert data.shape == (200,) and np.all(data >= 0) and np.all(data == np.round(data))
    assert np.array_equal(data, cls.synthetic(n=200, seed=3)) and not np.array_equal(data, cls.synthetic(n=200, seed=4))
    state = explorer.app.ExplorerState(cls)
    assert state.message == "" and state.model.data.shape == (300,)
    assert state.dataset == "synthetic"


# ----- 6. the report stays readable ------------------------------------------------------------------
def test_a_raising_model_gets_status_3_one_traceback_and_only_its_own_frames(tmp_path, capsys):
    spec = planted(tmp_path, RAISES_IN_M_STEP)
    code, out, err = run(["check", spec], capsys)
    assert code == 3
    assert out.count("Traceback") == 1 and "(the same traceback as above)" in out
    assert "explorer/core" not in out and "buggy.py" in out and "planted in m_step" in out
    assert "PASS  the posterior normalises" in out          # the checks that do not call m_step still run
    lines = [line for line in out.splitlines() if line.startswith("  FAIL") or line.startswith("  PASS")]
    assert lines.index(next(line for line in lines if "PASS" in line)) == sum("FAIL" in line for line in lines)


def test_failures_come_first_in_the_order_of_the_key_results(tmp_path):
    report = check_model(explorer.make_model(planted(tmp_path, NAN_LOG_JOINT)))
    order = [KEY_1, KEY_2, M_HALF, MONOTONE]
    ranks = [order.index(c.breaks) for c in report.checks]
    assert ranks == sorted(ranks) and report.checks[-1].breaks == MONOTONE


def test_against_reports_on_a_buggy_model(tmp_path, capsys):
    code, out, err = run(["check", planted(tmp_path, NAN_LOG_JOINT), "--against", f"{FIXTURE}:{CLASS}", "--json"],
                         capsys)
    assert code == 1, err
    result = json.loads(out)
    assert [c["name"] for c in result["checks"]] == ["log p(X | θ) agrees", "the posterior p(Z | X, θ) agrees",
                                                     "the M step agrees"]
    assert all(not c["passed"] and "log_joint(θ)" in c["message"] for c in result["checks"])


def test_the_app_refuses_a_reload_whose_log_p_is_nan_and_keeps_the_working_model(tmp_path):
    state = explorer.app.ExplorerState(load_model_class(f"{FIXTURE}:{CLASS}"))
    state.e_step()
    state.m_step()
    before = state.session.current.loglik
    assert not state.reload_model(load_model_class(planted(tmp_path, NAN_LOGLIK)))
    assert "loglik(θ) returned nan" in state.message and "at θ = {" in state.message
    assert state.session.current.loglik == before and np.isfinite(before)
    report = check_model(explorer.make_model(load_model_class(planted(tmp_path, NAN_LOGLIK, name="again"))))
    assert sum(not c.passed for c in report.checks) >= 3      # the Checks card's verdict is FAIL, not 6/6


def test_a_start_that_is_not_finite_is_blamed_on_init_theta(tmp_path, capsys):
    spec = planted(tmp_path, ('return {"weights": [0.5, 0.5], "rates"', 'return {"weights": [0.5, np.nan], "rates"'))
    code, _, err = run(["trace", "--model", spec, "--iterations", "1"], capsys)
    assert code == 3 and err.startswith("error: init_theta(rng) returned a θ that is not valid (parameter 'weights'")
    code, out, err = run(["check", spec], capsys)
    assert code == 1 and "init_theta(rng) returned a θ that is not valid" in out
    code, _, err = run(["trace", "--model", f"{FIXTURE}:{CLASS}", "--theta0", '{"rates": [1, -1]}',
                        "--iterations", "1"], capsys)
    assert code == 2 and "init_theta" not in err and "'rates' must be positive" in err     # the user's θ⁰


def test_the_checks_card_shows_the_users_frames_of_a_raising_model(tmp_path):
    from explorer import text
    report = check_model(explorer.make_model(planted(tmp_path, RAISES_IN_M_STEP)))
    shown = text.checks_report(report)
    assert "your code&#x27;s traceback" in shown or "your code's traceback" in shown
    assert "buggy.py" in shown and "planted in m_step" in shown and "explorer/core" not in shown


def test_explorer_app_on_a_class_without_params_names_params(tmp_path):
    cls = _class_without_check(tmp_path, ("    def params(self):", "    def params_old(self):"))
    with pytest.raises(ExplorerError, match="^PoissonMixture does not write params,"):
        explorer.App(cls)


def test_a_reload_is_drawn_once_with_its_own_picture():
    """A reload redraws once, with the picture it drew to check the new code: its settings and
    replayed steps each bumped `revision` before (each redraw computing a picture), and the last
    redraw computed the picture again beside the one the reload had drawn."""
    state = explorer.app.ExplorerState(load_model_class(f"{FIXTURE}:{CLASS}"))
    state.e_step()
    state.m_step()
    jobs, revisions, job = [], [], state.drawing.job
    state.drawing.job = lambda: (jobs.append(1), job())[1]
    state.param.watch(lambda e: (revisions.append(e.new), state.drawing.picture()), "revision")   # as the viewers do
    assert state.reload_model(load_model_class(f"{FIXTURE}:{CLASS}")), state.message
    assert len(revisions) == 1 and len(jobs) == 1, (revisions, jobs)
    assert state.session.position == 2 and state.drawing.picture().now is not None
