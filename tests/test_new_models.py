"""The two models added as one file each: a mixture of Bernoullis and a mixture of regressions,
checked against a reference EM and a direct maximisation written here."""
import json

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax, xlogy
from scipy.stats import norm

from explorer.cli import main
from explorer.core.errors import ExplorerError
from explorer.core.objective import evaluate
from explorer.core.session import Session
from explorer.models import make_model
from explorer.views.data import data_view_for


# ----- a mixture of Bernoullis --------------------------------------------------------------------
def bernoulli_loglik_terms(x, w, mu):
    """(N, K): log w_k + Σ_d log Bernoulli(x_id | μ_kd), straight from the definition."""
    return np.log(w)[None, :] + np.stack([np.sum(xlogy(x, m) + xlogy(1 - x, 1 - m), axis=1) for m in mu], axis=1)


def bernoulli_reference_em(x, w, mu, iterations):
    for _ in range(iterations):
        terms = bernoulli_loglik_terms(x, w, mu)
        r = np.exp(terms - logsumexp(terms, axis=1, keepdims=True))       # (N, K)
        n_k = r.sum(axis=0)
        w, mu = n_k / len(x), (r.T @ x) / n_k[:, None]
    return w, mu, float(logsumexp(bernoulli_loglik_terms(x, w, mu), axis=1).sum())


def em_after(model, seed, iterations):
    """θ⁰ of a session with `seed` and its θ after `iterations` EM iterations."""
    session = Session(model, seed=seed)
    theta0 = session.current.theta
    for _ in range(iterations):
        session.iterate()
    return theta0, session.current.theta


@pytest.mark.parametrize("data", ["digits-234", "synthetic"])
def test_bernoulli_mixture_em_matches_a_reference_em(data):
    model = (make_model("bernoulli-mixture") if data == "digits-234" else
             make_model("bernoulli-mixture", synthetic={"n": 200, "seed": 2, "separation": 1.5}, K=4))
    theta0, theta = em_after(model, seed=3, iterations=15)
    w, mu, loglik = bernoulli_reference_em(model.data, theta0["weights"], theta0["prototypes"], 15)
    assert np.allclose(theta["weights"], w, rtol=1e-9, atol=1e-12)
    assert np.allclose(theta["prototypes"], mu, rtol=1e-9, atol=1e-12)
    assert model.loglik(theta) == pytest.approx(loglik, rel=1e-12)


def test_the_digits_are_binarised_optdigits_and_em_finds_the_three_digits():
    model = make_model("bernoulli-mixture")
    assert model.data.shape == (541, 64) and set(np.unique(model.data)) == {0.0, 1.0}
    runs = []
    for seed in range(4):           # EM has local optima here (seed 0 merges the 2s and 3s): the best of four
        session = Session(model, seed=seed)
        session.run(tol=1e-9, max_iterations=500)
        runs.append(session)
    best = max(runs, key=lambda s: s.current.loglik)
    assert min(s.current.loglik for s in runs) < best.current.loglik - 100
    # the three prototypes explain the 2s, the 3s and the 4s (the data are sorted by digit:
    # 177 2s, 183 3s, 181 4s): each block of images goes mostly to a component of its own
    q = np.asarray(best.current.q)
    blocks = [slice(0, 177), slice(177, 360), slice(360, 541)]
    winners = [int(np.argmax(q[:, b].sum(axis=1))) for b in blocks]
    assert sorted(winners) == [0, 1, 2]
    assert all(q[k, b].mean() > 0.75 for k, b in zip(winners, blocks))


def test_the_bernoulli_mixtures_fixed_point_is_a_local_maximum_found_by_direct_maximisation():
    model = make_model("bernoulli-mixture", synthetic={"n": 150, "seed": 5, "separation": 1.0}, K=2)
    model = model.with_data(model.data[:, :16])          # 4×4 images: few parameters for scipy
    session = Session(model, seed=1)
    session.run(tol=1e-12, max_iterations=2000)
    theta = session.current.theta
    x = model.data
    mu_hat = np.asarray(theta["prototypes"])
    interior = (mu_hat > 1e-6) & (mu_hat < 1 - 1e-6)

    def negative_loglik(v):   # the weights by a logit, the interior prototypes by logits
        w = softmax(np.array([0.0, v[0]]))
        mu = mu_hat.copy()
        mu[interior] = 1 / (1 + np.exp(-v[1:]))
        return -logsumexp(bernoulli_loglik_terms(x, w, mu), axis=1).sum()

    logit = lambda p: np.log(p) - np.log1p(-p)      # noqa: E731
    start = np.concatenate([[np.log(theta["weights"][1] / theta["weights"][0])], logit(mu_hat[interior])])
    rng = np.random.default_rng(0)
    found = minimize(negative_loglik, start + rng.normal(0, 0.3, start.size), method="BFGS", options={"gtol": 1e-8})
    assert -found.fun <= model.loglik(theta) + 1e-7                 # nothing near θ̂ is higher
    assert -found.fun == pytest.approx(model.loglik(theta), abs=1e-4)   # and the search climbs back to it


def test_a_bernoulli_mixture_refuses_pixels_that_are_not_0_or_1():
    data = np.zeros((8, 4))
    data[1, 2] = 0.5
    with pytest.raises(ExplorerError, match="row 2, column 3 is 0.5: every pixel must be 0 or 1"):
        make_model("bernoulli-mixture").with_data(data)


def test_a_pixel_a_component_never_inks_makes_the_image_impossible_for_it_only():
    model = make_model("bernoulli-mixture", synthetic={"n": 40, "seed": 1}, K=2)
    mu = np.full((2, 64), 0.5)
    mu[0, 0] = 0.0                                   # component 1 never inks pixel 0
    theta = model.theta({"weights": [0.5, 0.5], "prototypes": mu})
    joint = model.log_joint(theta)
    on = model.data[:, 0] == 1
    assert np.all(joint[0, on] == -np.inf) and np.all(np.isfinite(joint[0, ~on])) and np.all(np.isfinite(joint[1]))
    direct = bernoulli_loglik_terms(model.data, np.array([0.5, 0.5]), mu).T
    assert np.allclose(joint[:, ~on], direct[:, ~on], rtol=1e-12)
    values = evaluate(model, theta, model.posterior(theta))
    assert np.isfinite(values.F) and values.kl == pytest.approx(0, abs=1e-9)


def test_the_bernoulli_picture_draws_each_prototype_and_each_images_responsibilities():
    model = make_model("bernoulli-mixture")
    session = Session(model, seed=0)
    session.iterate()
    view = data_view_for(model)
    view.update(session.current)
    prototypes, _ = view.sources["prototypes"][1], view.sources["responsibilities"][1]
    images = prototypes.data["image"]
    assert len(images) == 3 and images[0].shape == (8, 8)
    assert np.allclose(images[1][::-1].reshape(-1), session.current.theta["prototypes"][1])   # row 0 at the top
    bars = view.sources["responsibilities"][1].data
    tops = np.asarray(bars["top"]).reshape(3, -1)
    assert tops.shape == (3, 60) and np.allclose(tops[-1], 1.0)        # each image's bar stacks q to 1


def test_the_cli_traces_a_bernoulli_mixture(capsys):
    assert main(["trace", "--model", "bernoulli-mixture", "--iterations", "3", "--seed", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    logliks = [s["loglik"] for s in out["states"]]
    assert len(out["states"]) == 7 and all(b >= a - 1e-9 for a, b in zip(logliks, logliks[1:]))
    session = Session(make_model("bernoulli-mixture"), seed=2)
    for _ in range(3):
        session.iterate()
    assert logliks[-1] == pytest.approx(session.current.loglik, rel=1e-12)


# ----- a mixture of regressions --------------------------------------------------------------------
def regression_terms(x, y, coefficients, variances, weights):
    """(N, K): log w_k + log N(y | a_k + b_k x, σ²_k), by scipy."""
    return np.stack([np.log(weights[k]) + norm.logpdf(y, coefficients[k, 0] + coefficients[k, 1] * x,
                                                      np.sqrt(variances[k])) for k in range(len(weights))], axis=1)


def regression_reference_em(x, y, theta, iterations):
    c, v, w = (np.array(theta[k], dtype=float) for k in ("coefficients", "variances", "weights"))
    design = np.column_stack([np.ones_like(x), x])
    for _ in range(iterations):
        terms = regression_terms(x, y, c, v, w)
        r = np.exp(terms - logsumexp(terms, axis=1, keepdims=True))
        for k in range(len(w)):                     # weighted least squares by lstsq on √r-scaled rows
            s = np.sqrt(r[:, k])
            c[k] = np.linalg.lstsq(design * s[:, None], y * s, rcond=None)[0]
            v[k] = np.sum(r[:, k] * (y - design @ c[k]) ** 2) / r[:, k].sum()
        w = r.sum(axis=0) / len(x)
    return c, v, w


@pytest.mark.parametrize("data", ["ethanol", "synthetic"])
def test_regression_mixture_em_matches_a_reference_em(data):
    model = (make_model("regression-mixture") if data == "ethanol" else
             make_model("regression-mixture", synthetic={"n": 150, "seed": 1, "separation": 2.0}, K=3))
    theta0, theta = em_after(model, seed=4, iterations=20)
    c, v, w = regression_reference_em(model.data[:, 0], model.data[:, 1], theta0, 20)
    assert np.allclose(theta["coefficients"], c, rtol=1e-8, atol=1e-10)
    assert np.allclose(theta["variances"], v, rtol=1e-8)
    assert np.allclose(theta["weights"], w, rtol=1e-8)


def test_regression_mixture_on_ethanol_reaches_the_maximum_a_direct_maximisation_finds():
    """EM's two lines for NOx against E (one rising, one falling) and scipy's maximiser of the
    log-likelihood, started away from them, agree."""
    model = make_model("regression-mixture")
    session = Session(model, seed=0)
    session.run(tol=1e-12, max_iterations=5000)
    theta, _ = model.canonical(session.current.theta)
    x, y = model.data[:, 0], model.data[:, 1]

    def unpack(v):
        return v[:4].reshape(2, 2), np.exp(v[4:6]), softmax(np.array([0.0, v[6]]))

    def negative_loglik(v):
        return -logsumexp(regression_terms(x, y, *unpack(v)), axis=1).sum()

    start = np.concatenate([np.ravel(theta["coefficients"]), np.log(theta["variances"]),
                            [np.log(theta["weights"][1] / theta["weights"][0])]])
    found = minimize(negative_loglik, start * (1 + np.random.default_rng(0).normal(0, 0.05, start.size)),
                     method="BFGS", options={"gtol": 1e-7, "maxiter": 5000})
    coefficients, variances, weights = unpack(found.x)
    assert -found.fun == pytest.approx(session.current.loglik, abs=1e-6)
    assert session.current.loglik >= -found.fun - 1e-7
    assert np.allclose(coefficients, theta["coefficients"], rtol=1e-3)
    assert np.allclose(variances, theta["variances"], rtol=1e-3)
    slopes = np.sort(theta["coefficients"][:, 1])
    assert slopes[0] < -5 and slopes[1] > 5          # NOx falls with E on one line and rises on the other


def test_ecm_on_a_regression_mixture_maximises_one_block_at_a_time():
    """Coefficients with the variances held, then the variances at the new coefficients, then
    the weights: each CM step changes only its block and is the maximiser of F over it (found
    here by scipy), and the first differs from the full M step."""
    model = make_model("regression-mixture")
    session = Session(model, seed=0, schedule="ecm")
    session.e_step()
    q, start = session.current.q, session.current.theta
    full = model.maximize(q, start)
    x, y = model.data[:, 0], model.data[:, 1]

    def f_over(block, v):
        theta = dict(start) if block == "coefficients" else dict(session.current.theta)
        theta[block] = v.reshape(np.shape(theta[block]))
        return -np.sum(q.T * regression_terms(x, y, theta["coefficients"], theta["variances"], theta["weights"]))

    before = session.current.F
    for block in ("coefficients", "variances", "weights"):
        previous = session.current.theta
        session.m_step()
        now = session.current.theta
        assert session.current.detail == f"CM step: {block}"
        assert session.current.F > before
        before = session.current.F
        for other in ("coefficients", "variances", "weights"):
            assert np.array_equal(now[other], previous[other]) == (other != block)
        if block == "weights":
            continue      # on the simplex: the full M step's w = N_k / N, checked below
        best = minimize(lambda v: f_over(block, v), np.ravel(previous[block]) * 1.1, method="Nelder-Mead",
                        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
        assert np.allclose(best.x, np.ravel(now[block]), rtol=1e-5)
        if block == "coefficients":     # a state EM never visits: new lines, the old variances
            assert not np.allclose(now["variances"], full["variances"], rtol=1e-3)
    for name in ("coefficients", "variances", "weights"):   # the lines do not depend on the variances,
        assert np.allclose(session.current.theta[name], full[name], rtol=1e-12)   # so the cycle ends at EM's θ


def test_the_regression_picture_draws_each_line_and_colours_the_points_by_q():
    model = make_model("regression-mixture")
    session = Session(model, seed=0)
    session.iterate()
    view = data_view_for(model)
    view.update(session.current)
    lines = view.sources["lines"][1].data
    a, b = np.asarray(session.current.theta["coefficients"]).T
    ends = lines["xs"][0]
    assert len(lines["ys"]) == 2 and np.allclose(lines["ys"][1], a[1] + b[1] * ends)
    points = view.sources["points"][1].data
    assert len(points["x"]) == 88 and len({tuple(c) for c in points["color"]}) > 2   # mixed by q, not grey


def test_a_large_regression_data_set_draws_an_even_sample_of_its_points():
    model = make_model("regression-mixture", synthetic={"n": 50_000, "seed": 3})
    view = data_view_for(model)
    view.update(Session(model, seed=0).current)
    points = view.sources["points"][1].data
    assert len(points["x"]) == len(points["color"]) == 2000
    assert points["x"][-1] == model.data[-1, 0] and points["x"][0] == model.data[0, 0]
