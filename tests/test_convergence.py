"""How EM is stopped and how fast it converges (DLR 1977 §3; McLachlan & Krishnan §4.9)."""
import json

import numpy as np
import pytest

from explorer import Session, compare_with_exact, make_model
from explorer.cli import main
from explorer.core.convergence import aitken_limit, em_map_rate, rates

LINKAGE_MLE = (15 + np.sqrt(53809)) / 394


def test_linkage_rate_is_dlrs_fraction_of_missing_information():
    session = Session(make_model("linkage"), {"theta": 0.5})
    for _ in range(7):
        session.iterate()
    observed = rates(session.states)
    assert observed[:4] == [None] * 4
    assert observed[-1] == pytest.approx(0.1328, abs=5e-5)          # DLR §3, to 4 digits
    assert em_map_rate(session.model, {"theta": np.array(LINKAGE_MLE)}) == pytest.approx(0.1328, abs=5e-5)


def test_the_em_map_rate_is_the_limit_of_the_observed_ratio_for_a_mixture():
    session = Session(make_model("gmm1d"), seed=0)
    session.run(tol=1e-12)
    limit = em_map_rate(session.model, session.current.theta, session.frozen)
    assert 0 < limit < 1
    late = [r for r in rates(session.states)[-12:-4] if r is not None]
    assert np.median(late) == pytest.approx(limit, rel=1e-2)


def test_stopping_reaches_the_fixed_point():
    session = Session(make_model("linkage"), {"theta": 0.5})
    assert session.run(tol=1e-12).converged
    assert abs(float(session.current.theta["theta"]) - LINKAGE_MLE) < 1e-9      # it used to stop 2.8e-9 short
    two = make_model("two-source")
    exact = compare_with_exact(two, "mean-field").exact.current.theta["noise_var"]
    assert float(exact) == pytest.approx(np.mean(np.asarray(two.data) ** 2) - 2, abs=1e-8)   # was 2.2e-5 off


def test_aitken_extrapolates_a_geometric_sequence_exactly():
    limit, r = 3.0, 0.6
    seq = [limit - 2 * r ** t for t in range(3)]
    assert aitken_limit(*seq) == pytest.approx(limit, abs=1e-12)
    assert aitken_limit(0.0, 1.0, 3.0) is None           # not converging linearly


def test_cli_prints_the_rate_of_every_state(capsys):
    code = main(["trace", "--model", "linkage", "--theta0", '{"theta": 0.5}', "--until-converged",
                 "--tol", "1e-12", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["states"][0]["rate"] is None
    assert out["states"][12]["rate"] == pytest.approx(0.1328, abs=5e-5)
    assert out["em_map_rate"] == pytest.approx(0.1328, abs=5e-5)


def test_a_gradient_run_that_stalls_says_so_instead_of_converged(capsys):
    # tolerances finer than F's rounding: the run cannot converge, so it must stall and say so
    session = Session(make_model("coins"), seed=0, schedule="gradient:0.1")
    result = session.run(tol=1e-16, theta_tol=1e-16, max_iterations=20_000)
    assert result.stalled and not result.converged
    assert session.current.stalled and session.current.detail.startswith("stalled: the gain in F")
    code = main(["trace", "--model", "coins", "--schedule", "gradient:0.1", "--until-converged", "--tol", "1e-16",
                 "--theta-tol", "1e-16", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["stalled"] is True and out["converged"] is False
    assert out["states"][-1]["stalled"] is True
    em = Session(make_model("coins"), seed=0)
    assert not em.run(tol=1e-12).stalled


def test_a_log_joint_model_reaches_the_mle_to_1e_7():
    """The numerical M step stops on the gradient (and polishes with Newton steps), not on the
    gain in F, which ended 1e-6 to 5e-5 short of the MLE."""
    from scipy.special import xlogy

    from explorer import LogJointModel, Param

    class GeometricMixture(LogJointModel):
        name = "geometric-mixture"
        latent_values = [0, 1]
        param_specs = [Param("w", (2,), "simplex", "w"), Param("p", (2,), "unit", "p")]

        def log_joint_point(self, x, z, theta):
            return np.log(theta["w"][z]) + xlogy(x, 1 - theta["p"][z]) + np.log(theta["p"][z])

        def init_theta(self, rng):
            return {"w": np.array([0.5, 0.5]), "p": np.array([0.2, 0.6])}

    rng = np.random.default_rng(0)
    x = np.where(rng.uniform(size=400) < 0.4, rng.geometric(0.15, 400) - 1, rng.geometric(0.6, 400) - 1)
    model = GeometricMixture(x.astype(float))
    session = Session(model, seed=0)
    assert session.run(tol=1e-13, max_iterations=20_000).converged
    w, p = np.array([0.5, 0.5]), np.array([0.2, 0.6])
    for _ in range(5000):                       # the closed-form EM of the same mixture
        lj = np.log(w)[:, None] + x[None] * np.log(1 - p)[:, None] + np.log(p)[:, None]
        r = np.exp(lj - lj.max(axis=0))
        r /= r.sum(axis=0)
        n = r.sum(axis=1)
        w, p = n / n.sum(), n / (n + r @ x)
    np.testing.assert_allclose(session.current.theta["p"], p, atol=1e-7)
    np.testing.assert_allclose(session.current.theta["w"], w, atol=1e-7)


@pytest.mark.parametrize("model, K", [("gmm1d", 3), ("gmm1d", 4), ("gmm2d", 3)])
def test_a_mixture_never_starts_with_two_equal_means(model, K):
    """Faithful's waiting times repeat, so K data points drawn as the starting means were equal in
    15 of 200 seeds (K = 3): equal components stay equal under EM, a saddle it never leaves. The
    start is redrawn from the distinct values (still data points), and EM from seed 0 ends with
    its components apart."""
    from explorer.models import make_model
    mixture = make_model(model, K=K)
    for seed in range(200):
        means = np.asarray(mixture.init_theta(np.random.default_rng(seed))["means"]).reshape(K, -1)
        assert len(np.unique(means, axis=0)) == K, seed
        assert all(any(np.array_equal(mean, point) for point in mixture.data.reshape(len(mixture.data), -1))
                   for mean in means), seed                     # still data points
    session = Session(mixture, seed=0)
    session.run(tol=1e-10, max_iterations=2000)
    means = np.asarray(session.current.theta["means"]).reshape(K, -1)
    closest = min(np.linalg.norm(a - b) for i, a in enumerate(means) for b in means[i + 1:])
    assert closest > 1e-3 * np.ptp(mixture.data)        # no two components fused at a saddle
