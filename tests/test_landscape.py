"""The bound slice and the θ–q landscape: the pictures obey the variational identities."""
import json

import numpy as np
import pytest

from explorer import Session, make_model
from explorer.cli import main
from explorer.core.families import get_family
from explorer.core.landscape import LandscapeCalculator, free_coordinate_count
from explorer.core.model import Model, coordinates
from explorer.core.picture import picture

from .conftest import MODEL_FACTORIES

KEYS = {"linkage": "theta", "coins": "theta_B", "gmm1d": "means[1]", "gmm2d": "covariances[0,0,1]",
        "two-source": "noise_var", "factor-analysis": "W[1,0]"}


@pytest.mark.parametrize("name", sorted(MODEL_FACTORIES))
def test_landscape_diagonal_is_log_p_and_every_entry_is_below_it(name):
    model = MODEL_FACTORIES[name]()
    session = Session(model, seed=1)
    session.iterate()
    session.e_step()
    s = session.current
    calc = LandscapeCalculator(model, get_family("exact"), 15)
    key = KEYS.get(name, coordinates(model.params())[0])
    picture = calc.landscape(s.theta, s.q, key, free_coordinate_count(model, session.frozen))
    scale = 1e-9 * (1 + np.abs(picture.loglik))
    np.testing.assert_allclose(np.diag(picture.F), picture.loglik, atol=0, rtol=1e-9)
    np.testing.assert_allclose(picture.best_bound, picture.loglik, rtol=1e-9)
    assert np.all(picture.F <= picture.loglik[None, :] + scale[None, :])      # F[φ][t] ≤ log p(t)

    bound = calc.bound_slice(s.theta, s.q, key)
    assert np.all(bound.F <= bound.loglik + scale)
    # after the E step the gap KL(q ‖ p(Z|X,θ_t)) is 0 at the current θ_j: its smallest value on
    # the grid is next to the current point
    i = int(np.argmin(np.abs(bound.grid - bound.current)))
    assert abs(int(np.argmin(bound.loglik - bound.F)) - i) <= 1


def test_the_m_step_target_on_the_slice_is_the_m_step_for_one_parameter():
    """Linkage has one parameter: the maximiser of F(θ, q) along θ is DLR's θ¹ = 59/97."""
    model = MODEL_FACTORIES["linkage"]()
    session = Session(model, {"theta": 0.5})
    state = session.e_step()
    bound = LandscapeCalculator(model, get_family("exact"), 40).bound_slice(state.theta, state.q, "theta")
    assert bound.m_target == pytest.approx(59 / 97, abs=1e-7)
    assert float(session.m_step().theta["theta"]) == pytest.approx(bound.m_target, abs=1e-7)


def test_one_free_parameter_makes_the_picture_exact_and_fixed():
    model = MODEL_FACTORIES["gmm1d"]()
    frozen = {"weights", "variances"}
    assert free_coordinate_count(model, frozen) == 3
    assert free_coordinate_count(model, set()) == 2 + 3 + 3
    assert free_coordinate_count(MODEL_FACTORIES["linkage"](), set()) == 1
    assert free_coordinate_count(MODEL_FACTORIES["gmm2d"](), set()) == 1 + 4 + 6
    model = MODEL_FACTORIES["linkage"]()
    session = Session(model, {"theta": 0.3})
    calc = LandscapeCalculator(model, get_family("exact"), 20)
    first = calc.landscape(session.e_step().theta, session.current.q, "theta", 1)
    session.m_step()
    again = calc.landscape(session.e_step().theta, session.current.q, "theta", 1)
    assert first.exact and first is not again
    np.testing.assert_array_equal(first.F, again.F)     # the same picture (reused)


def test_staircase_moves_along_phi_in_e_steps_and_along_t_in_m_steps():
    session = Session(MODEL_FACTORIES["linkage"](), {"theta": 0.5})
    session.m_step()             # an M step before any E step: q is not on the path
    for _ in range(3):
        session.iterate()
    calc = LandscapeCalculator(session.model, get_family("exact"), 30)
    path = picture(session, "theta", calc).path
    assert path.placed[:2] == [True, True] and not any(path.placed[2:])   # before the first E step
    assert path.index == list(range(len(session.states)))
    for k in range(3, len(path.t)):
        if path.kind[k] == "E":
            assert path.t[k] == path.t[k - 1] and path.phi[k] == path.t[k]     # along φ, onto the diagonal
        else:
            assert path.phi[k] == path.phi[k - 1]                              # along t


def test_cli_landscape_prints_what_the_app_draws(capsys):
    code = main(["landscape", "--model", "linkage", "--theta0", '{"theta": 0.5}', "--param", "theta",
                 "--grid", "30", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["state"]["kind"] == "E" and out["param"] == "theta"
    assert len(out["slice"]["t"]) == 30 and len(out["landscape"]["F"]) == 30
    assert len(out["landscape"]["F"][0]) == 30 and out["landscape"]["exact"] is True
    assert out["slice"]["m_target"] == pytest.approx(59 / 97, abs=1e-7)
    np.testing.assert_allclose(np.diag(out["landscape"]["F"]), out["landscape"]["loglik"], rtol=1e-9)


@pytest.mark.parametrize("args, message", [
    (["--param", "means[7]"], "is not a coordinate"),
    (["--param", "means[0", ], "cannot read the coordinate"),
    (["--param", "means[0]", "--grid", "2"], "--grid"),
])
def test_cli_landscape_bad_input(args, message, capsys):
    code = main(["landscape", "--model", "gmm1d", *args, "--json"])
    assert code == 2 and message in capsys.readouterr().err


def test_freezing_single_entries_gives_an_exact_gmm_picture(capsys):
    """gmm1d with weights, variances and means[1] frozen has one free coordinate: means[0]."""
    model = make_model_gmm()
    frozen = {"weights", "variances", "means[1]"}
    assert free_coordinate_count(model, frozen) == 1
    session = Session(model, seed=0, frozen=frozen)
    start = session.current.theta
    for _ in range(5):
        session.iterate()
    assert float(session.current.theta["means"][1]) == float(start["means"][1])
    assert float(session.current.theta["means"][0]) != float(start["means"][0])
    state = session.e_step()
    picture = LandscapeCalculator(model, get_family("exact"), 15).landscape(
        state.theta, state.q, "means[0]", free_coordinate_count(model, session.frozen))
    assert picture.exact
    # the M step is the maximiser along the one free coordinate
    bound = LandscapeCalculator(model, get_family("exact"), 40).bound_slice(state.theta, state.q, "means[0]")
    assert float(session.m_step().theta["means"][0]) == pytest.approx(bound.m_target, abs=1e-6)
    code = main(["trace", "--model", "gmm1d", "--freeze", "weights,variances,means[1]", "--iterations", "2",
                 "--json"])
    states = json.loads(capsys.readouterr().out)["states"]
    assert code == 0 and len({s["theta"]["means"][1] for s in states}) == 1


def test_frozen_weight_entries_keep_the_simplex():
    model = make_model_gmm(K=3)
    session = Session(model, seed=1, frozen={"weights[0]"})
    w0 = float(session.current.theta["weights"][0])
    state = session.e_step()
    counts = np.asarray(state.q).sum(axis=1)
    weights = session.m_step().theta["weights"]
    assert weights[0] == w0 and weights.sum() == pytest.approx(1, abs=1e-12)
    assert weights[1] / weights[2] == pytest.approx(counts[1] / counts[2], rel=1e-12)


@pytest.mark.parametrize("model_name, frozen, schedule, message", [
    ("gmm2d", {"covariances[0,0,0]"}, "em", "freezes covariances as a whole"),
    ("gmm1d", {"means[5]"}, "em", "no such entry"),
    ("gmm1d", {"means[1]"}, "gradient:0.1", "freezes whole parameters only"),
])
def test_entry_freezing_errors(model_name, frozen, schedule, message):
    from explorer import ExplorerError, make_model
    with pytest.raises(ExplorerError, match=message):
        Session(make_model(model_name), frozen=frozen, schedule=schedule)


def make_model_gmm(K=2):
    from explorer import make_model
    return make_model("gmm1d", synthetic={"n": 300, "seed": 8, "separation": 3.0}, K=K)


@pytest.mark.parametrize("name, K", [("gmm1d", 2), ("gmm1d", 3), ("gmm2d", 2), ("gmm2d", 3), ("coins", None),
                                     ("two-source", None)])
def test_vectorised_ecll_grid_equals_one_pair_at_a_time(name, K):
    from explorer import make_model
    from explorer.core.model import Model
    model = make_model(name, **({"K": K} if K else {}))
    session = Session(model, seed=1)
    thetas, stats = [], []
    for _ in range(4):
        session.iterate()
        thetas.append(session.current.theta)
        stats.append(model.stats(session.current.q))
    if name == "coins":                 # θ on the edge of its range: 0 log 0 = 0, as one pair at a time
        thetas.append({"theta_A": 1.0, "theta_B": 0.0, "weight_A": 1.0})
    np.testing.assert_allclose(model.ecll_grid(thetas, stats), Model.ecll_grid(model, thetas, stats),
                               rtol=1e-13, atol=1e-10)


@pytest.mark.parametrize("name, K", [("gmm1d", 2), ("gmm1d", 3), ("gmm2d", 3), ("coins", None), ("linkage", None),
                                     ("factor-analysis", None)])
def test_a_grid_normalised_together_equals_one_pass_per_theta(name, K):
    """A model's own `grid_passes` (`LatentClassModel`'s: the grid's posteriors normalised as one
    array; factor analysis: the grid's θ stacked) gives each θ's log p, statistics and entropy
    as its own pass does."""
    model, thetas = _model_and_grid(name, K)
    _assert_same_passes(model.grid_passes(thetas), Model.grid_passes(model, thetas))


def test_a_grid_with_an_impossible_point_gives_each_theta_its_own_pass():
    """coins at θ_A = 1 (the edge): a set with tails is impossible under coin A, so the batch
    (which needs a finite log joint) is not used. The grid's other θ still get what the batch
    gives them, and the edge its finite log p and the entropy of its one-sided posterior."""
    model, thetas = _model_and_grid("coins", None)
    edge = {"theta_A": 1.0, "theta_B": 0.5, "weight_A": 0.5}
    assert not np.isfinite(model.log_joint(edge)).all()
    with_edge = model.grid_passes(thetas + [edge])
    _assert_same_passes(with_edge[:-1], model.grid_passes(thetas))
    loglik, _, entropy = with_edge[-1]
    fresh = model.with_data(model.data)
    assert np.isfinite(loglik) and loglik == pytest.approx(fresh.loglik(edge), rel=1e-13)
    assert entropy == pytest.approx(fresh.entropy(fresh.posterior(edge)), rel=1e-13, abs=1e-13)


@pytest.mark.parametrize("name, family", [("coins", "exact"), ("gmm1d", "hard"), ("hmm", "exact")])
def test_a_landscape_leaves_the_state_s_pass_and_statistics_remembered(name, family, monkeypatch):
    """The grid takes passes at other θ and statistics of other q; the model's one-entry caches
    are put back afterwards, so the state's statistics are not computed again after a picture."""
    model = make_model(name)
    session = Session(model, seed=1)
    session.iterate()
    theta, q = session.current.theta, session.current.q
    model.loglik(theta), model.stats(q)
    calc = LandscapeCalculator(model, get_family(family), 12)
    key = KEYS.get(name, coordinates(model.params())[0])
    if name == "coins":                     # the per-θ path a grid too big to batch takes
        model.grid_passes = lambda thetas: Model.grid_passes(model, thetas)
    calls = []
    monkeypatch.setattr(model, "suff_stats", lambda *a: calls.append(a) or type(model).suff_stats(model, *a))
    calc._columns(theta, q, key)
    passes = len(calls)
    model.stats(q)
    assert passes > 0 and len(calls) == passes


def _model_and_grid(name, K):
    model = make_model(name, **({"K": K} if K else {}))
    session = Session(model, seed=1)
    session.iterate()
    key = KEYS.get(name, coordinates(model.params())[0])
    calc = LandscapeCalculator(model, get_family("exact"), 12)
    _, thetas, *_ = calc._columns(session.current.theta, session.current.q, key)
    return model, thetas


def _assert_same_passes(together, one_by_one):
    assert len(together) == len(one_by_one)
    for (loglik, stats, entropy), (loglik_1, stats_1, entropy_1) in zip(together, one_by_one):
        assert loglik == pytest.approx(loglik_1, rel=1e-12, abs=1e-9)
        assert entropy == pytest.approx(entropy_1, rel=1e-12, abs=1e-9)
        np.testing.assert_allclose(_flat(stats), _flat(stats_1), rtol=1e-12, atol=1e-9)


def _flat(stats) -> np.ndarray:
    return np.concatenate([np.ravel(v) for v in (stats.values() if isinstance(stats, dict) else [stats])])


def test_factor_analysis_expected_log_likelihood_from_statistics_equals_the_per_point_sum(rng):
    """E_q log p(X, Z | θ) from q's statistics about x̄ (every pair of a grid at once) equals
    Σ_i E_q[log N(z_i; 0, I) + log N(x_i; W z_i + μ, Ψ)], written per point here, on the wine
    data (columns with means far from 0: the expansion must not cancel) and at a Heywood θ."""
    from scipy.stats import multivariate_normal
    from .conftest import random_theta
    model = make_model("factor-analysis")
    assert model.has_stats

    def direct(theta, q):
        W, mu, psi = theta["W"], theta["mu"], theta["psi"]
        noise = sum(multivariate_normal.logpdf(x, W @ m + mu, np.diag(psi)) for x, m in zip(model.data, q.mean))
        prior = sum(multivariate_normal.logpdf(m, np.zeros(model.k), np.eye(model.k)) for m in q.mean)
        n = len(model.data)
        return prior + noise - 0.5 * n * (np.trace(q.cov) + np.trace(W.T @ (W / psi[:, None]) @ q.cov))

    session = Session(model, seed=2)
    session.run(max_iterations=30)
    heywood = {**session.current.theta, "psi": np.array(model.floor)}   # every ψ_j at its floor
    thetas = [random_theta(model, rng), random_theta(model, rng), session.current.theta, heywood]
    qs = [model.random_q(rng), model.posterior(thetas[0]), session.current.q,
          get_family("mean-field", model).e_step(model, thetas[1], session.current.q)]
    for theta in thetas[:3]:   # and log p(X | θ) = Σ_i log N(x_i; μ, Σ), Σ = W Wᵀ + Ψ (by LU, not Cholesky)
        cov, r = theta["W"] @ theta["W"].T + np.diag(theta["psi"]), model.data - theta["mu"]
        n, p = r.shape
        direct_loglik = -0.5 * (n * (p * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1])
                                + np.sum(r.T * np.linalg.solve(cov, r.T)))
        assert model.loglik(theta) == pytest.approx(direct_loglik, rel=1e-12)
    grid = model.ecll_grid(thetas, [model.stats(q) for q in qs])
    expected = np.array([[direct(t, q) for t in thetas] for q in qs])
    np.testing.assert_allclose(grid, expected, rtol=1e-12)
    assert model.expected_complete_loglik(thetas[2], qs[2]) == pytest.approx(expected[2, 2], rel=1e-12)


def _inside(px: float, py: float, rings) -> bool:
    """Even-odd ray casting over a polygon's rings (its outer ring and its holes)."""
    inside = False
    for xs, ys in rings:
        xs, ys = np.asarray(xs), np.asarray(ys)
        for x0, y0, x1, y1 in zip(xs, ys, np.roll(xs, -1), np.roll(ys, -1)):
            if (y0 > py) != (y1 > py) and px < x0 + (py - y0) * (x1 - x0) / (y1 - y0):
                inside = not inside
    return inside


@pytest.mark.parametrize("query", [{"model": "gmm1d", "steps": "EM2"}, {"model": "gmm2d", "steps": "EM3"},
                                   {"model": "coins", "family": "hard", "steps": "EM2"},
                                   {"model": "two-source", "family": "mean-field", "steps": "EM2"}])
def test_the_landscape_s_stacked_regions_colour_each_point_by_its_band(query):
    """The landscape is drawn as the regions F ≥ level, lowest first, each over the one before
    (views/landscape.py): a point's colour is that of the last region holding it, which must be
    its band's; with about half the vertices of the bands themselves (each contour line once)."""
    from bokeh.plotting.contour import contour_data

    from explorer.app import ExplorerState
    from explorer.views.landscape import levels_for, stacked_regions
    drawn = ExplorerState(query=query).drawing.picture()
    grid, F = drawn.landscape.grid, drawn.landscape.F
    levels = levels_for(F, *drawn.colour_range)
    regions = stacked_regions(grid, F, levels)
    checked = 0
    for i in range(1, len(grid) - 1, 3):                # grid points inside the frame, off every level
        for j in range(1, len(grid) - 1, 3):
            value = F[i, j]
            if not np.isfinite(value) or np.min(np.abs(levels - value)) < 1e-9 * (1 + abs(value)):
                continue
            holding = [k for k, (xs, ys) in enumerate(zip(regions.xs, regions.ys))
                       if any(_inside(grid[j], grid[i], zip(px, py)) for px, py in zip(xs, ys))]
            band = min(int(np.searchsorted(levels, value, side="right")) - 1, len(levels) - 2)
            assert holding and holding[-1] == band, (grid[j], grid[i], value, holding, band)
            checked += 1
    assert checked >= 100

    def vertices(xs):
        return sum(len(ring) for band in xs for polygon in band for ring in polygon)
    bands = contour_data(grid, grid, F, levels=levels, want_line=False).fill_data
    assert vertices(regions.xs) <= 0.6 * vertices(bands.xs)
