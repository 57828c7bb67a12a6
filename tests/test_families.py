"""Constrained families Q′: the gap that cannot close, and the bias it leaves (issue 4)."""
import json

import numpy as np
import pytest
from scipy.stats import norm

from explorer import Session, make_model
from explorer.cli import main
from explorer.core.compare import compare_with_exact
from explorer.core.families import families_for, get_family
from explorer.core.gaussian_latent import gaussian_q
from explorer.core.objective import evaluate
from explorer.models.two_source import TwoSource

from .conftest import MODEL_FACTORIES, random_theta

CASES = [(name, family) for name in sorted(MODEL_FACTORIES)
         for family in families_for(MODEL_FACTORIES[name]())]


def test_each_family_is_offered_where_it_applies():
    assert families_for(make_model("gmm1d")) == ["exact", "hard"]
    assert families_for(make_model("two-source")) == ["exact", "mean-field", "mean-field-1"]
    assert families_for(make_model("linkage")) == ["exact"]
    with pytest.raises(ValueError, match="not available for model linkage"):
        Session(make_model("linkage"), family="hard")


@pytest.mark.parametrize("name, family", CASES)
def test_bound_holds_and_e_steps_never_lower_f(name, family):
    model = MODEL_FACTORIES[name]()
    session = Session(model, seed=3, family=family)
    session.e_step()   # the starting q need not lie in Q′ (hard: it is not a point mass)
    session.m_step()
    for _ in range(15):
        before = session.current.F
        e = session.e_step()
        assert e.F >= before - 1e-9 * (1 + abs(before))                # the E step never lowers F
        m = session.m_step()
        assert m.F >= e.F - 1e-9 * (1 + abs(e.F))                      # nor does the M step
    for state in session.states:
        assert state.F <= state.loglik + 1e-9 * (1 + abs(state.loglik))
    after_e = [s for s in session.states if s.kind == "E"]
    gaps = np.array([s.kl for s in after_e])
    if family == "exact":
        assert np.all(np.abs(gaps) <= 1e-9 * (1 + abs(after_e[-1].loglik)))
    else:
        assert np.all(gaps > 1e-6)                                     # the gap cannot close


@pytest.mark.parametrize("family", ["hard", "mean-field"])
def test_constrained_e_step_is_the_best_in_its_family(family, rng):
    """No other member of the family (random ones, and small moves of q*) has a larger F.
    (mean-field-1 stops after one sweep on purpose: test_one_sweep_... covers it.)"""
    model = MODEL_FACTORIES["gmm1d" if family == "hard" else "two-source"]()
    theta = random_theta(model, rng)
    q_best = get_family(family).e_step(model, theta, model.initial_q(theta))
    f_best = evaluate(model, theta, q_best).F
    for _ in range(20):
        if family == "hard":
            labels = rng.integers(model.n_classes(), size=model.n_points())
            other = np.eye(model.n_classes())[labels].T
        else:
            other = gaussian_q(q_best.mean + rng.normal(scale=0.05, size=q_best.mean.shape),
                               np.diag(np.diag(q_best.cov) * np.exp(rng.normal(scale=0.1, size=2))))
        assert evaluate(model, theta, other).F <= f_best + 1e-9


def test_one_sweep_is_a_partial_e_step_recorded_as_such():
    model = make_model("two-source")
    session = Session(model, {"noise_var": 0.5}, family="mean-field-1")
    state = session.e_step()
    assert state.detail == "1 sweep of coordinate ascent"
    full = Session(model, {"noise_var": 0.5}, family="mean-field").e_step()
    assert full.detail.endswith("sweeps of coordinate ascent") and full.F > state.F


def test_two_source_ml_estimate_mean_field_fixed_point_and_gap():
    model = make_model("two-source")      # 200 points simulated with s = 1
    m = float(np.mean(model.data ** 2))
    exact = Session(model, {"noise_var": 1.0})
    exact.run(tol=1e-14, max_iterations=20_000)
    assert float(exact.current.theta["noise_var"]) == pytest.approx(m - 2, rel=1e-6)
    assert model.ml_estimate() == pytest.approx(m - 2)

    variational = Session(model, {"noise_var": 1.0}, family="mean-field")
    variational.run(tol=1e-14, max_iterations=20_000)
    s_mf = float(variational.current.theta["noise_var"])
    assert s_mf == pytest.approx(model.mean_field_fixed_point(), rel=1e-7)
    s = s_mf
    assert s**3 + (3 - m) * s**2 - m * s - 4 == pytest.approx(0, abs=1e-8)
    assert s_mf > m - 2                                   # the factorised family overestimates s

    for s in (0.3, 1.0, 4.0):
        theta = model.theta({"noise_var": s})
        q = get_family("mean-field").e_step(model, theta, model.initial_q(theta))
        gap = evaluate(model, theta, q).kl / len(model.data)
        assert gap == pytest.approx(TwoSource.mean_field_gap_per_point(s), rel=1e-9)
        posterior = model.posterior(theta)
        correlation = posterior.cov[0, 1] / np.sqrt(posterior.cov[0, 0] * posterior.cov[1, 1])
        assert correlation == pytest.approx(-1 / (1 + s), rel=1e-12)


def test_gaussian_kl_gap_agrees_with_its_closed_form(rng):
    """log p − F equals Σ_i KL(N(m_i, S_q) ‖ N(m*_i, S*)) computed directly."""
    for name in ("two-source", "factor-analysis"):
        model = MODEL_FACTORIES[name]()
        theta, q = random_theta(model, rng), model.random_q(rng)
        post = model.posterior(theta)
        inv = np.linalg.inv(post.cov)
        d = q.cov.shape[0]
        diff = q.mean - post.mean
        per_point = 0.5 * (np.trace(inv @ q.cov) - d + np.linalg.slogdet(post.cov)[1] - np.linalg.slogdet(q.cov)[1])
        direct = len(diff) * per_point + 0.5 * np.einsum("ni,ij,nj->", diff, inv, diff)
        assert evaluate(model, theta, q).kl == pytest.approx(direct, rel=1e-8)


def test_hard_em_converges_to_a_partition_with_f_its_complete_data_loglik():
    model = make_model("gmm1d", synthetic={"n": 300, "seed": 11, "separation": 8.0}, K=2)
    session = Session(model, seed=0, family="hard")
    assert session.run(tol=1e-12, max_iterations=200).converged
    state = session.e_step()
    q = np.asarray(state.q)
    assert set(np.unique(q)) == {0.0, 1.0} and np.all(q.sum(axis=0) == 1)
    assert state.entropy == 0.0
    labels = np.argmax(q, axis=0)
    th = state.theta
    complete = np.sum(np.log(th["weights"][labels])
                      + norm.logpdf(model.data, th["means"][labels], np.sqrt(th["variances"][labels])))
    assert state.F == pytest.approx(complete, rel=1e-12)
    for k in range(2):   # at the fixed point θ is the complete-data MLE of its own partition
        assert th["means"][k] == pytest.approx(model.data[labels == k].mean(), rel=1e-12)
    assert state.kl > 0


def test_mean_field_pulls_factor_loadings_toward_orthogonal_columns():
    model = MODEL_FACTORIES["factor-analysis"]()
    result = compare_with_exact(model, "mean-field", seed=1, tol=1e-8, max_iterations=20_000)
    assert all(run.converged for run in result.runs)
    exact_cos = model.column_cosines(result.exact.current.theta)[0, 1]
    mf_cos = model.column_cosines(result.constrained.current.theta)[0, 1]
    assert abs(mf_cos) < 1e-3 and abs(exact_cos) > 0.1
    # with W's columns orthogonal the posterior factorises: at the fixed point the gap closes
    assert abs(result.constrained.current.kl) < 1e-6
    assert result.exact.current.loglik >= result.constrained.current.loglik - 1e-6


def test_cli_family_and_compare(capsys):
    code = main(["trace", "--model", "gmm1d", "--family", "hard", "--iterations", "2", "--json"])
    states = json.loads(capsys.readouterr().out)["states"]
    assert code == 0 and states[1]["kl"] > 0
    code = main(["compare", "--model", "two-source", "--family", "mean-field", "--theta0",
                 '{"noise_var": 1}', "--tol", "1e-13", "--json"])
    out = json.loads(capsys.readouterr().out)
    model = make_model("two-source")
    assert code == 0
    assert out["constrained"]["theta"]["noise_var"] == pytest.approx(model.mean_field_fixed_point(), rel=1e-6)
    assert out["exact"]["theta"]["noise_var"] == pytest.approx(model.ml_estimate(), rel=1e-5)
    assert out["bias"]["noise_var"] > 1
    assert out["constrained"]["kl_gap"] == pytest.approx(
        200 * TwoSource.mean_field_gap_per_point(out["constrained"]["theta"]["noise_var"]), rel=1e-6)
    code = main(["compare", "--model", "gmm1d", "--family", "mean-field", "--json"])
    assert code == 2 and "not available" in capsys.readouterr().err
