"""Restarts: EM from many seeded starts finds the local optima, with relabellings merged."""
import json

import numpy as np
import pytest

from explorer import Session, make_model
from explorer.cli import main
from explorer.core.errors import ExplorerError
from explorer.core.restarts import canonical, run_restarts


def test_galaxies_with_three_components_has_at_least_two_optima():
    model = make_model("gmm1d", data="galaxies", K=3)
    result = run_restarts(model, 20, seed=0)
    assert len(result.fixed_points) >= 2
    assert sum(p.count for p in result.fixed_points) == 20
    logliks = [p.loglik for p in result.fixed_points]
    assert logliks == sorted(logliks, reverse=True)
    for point in result.fixed_points:            # each is a fixed point: one more iteration stays
        session = Session(model, point.theta)
        session.iterate()
        assert session.current.loglik == pytest.approx(point.loglik, abs=1e-6)
    assert set(result.traces) == set(range(20))
    for trace in result.traces.values():         # EM's log p never falls
        assert np.all(np.diff(trace) >= -1e-9 * (1 + abs(trace[-1])))


def test_a_relabelled_fixed_point_is_merged_with_its_twin():
    model = make_model("gmm1d", data="faithful-waiting", K=2)
    theta = Session(model, seed=0).current.theta
    swapped = model.theta({name: np.asarray(value)[::-1] for name, value in theta.items()})
    a, changed_a = canonical(model, theta)
    b, changed_b = canonical(model, swapped)
    assert changed_b and not changed_a
    for name in theta:
        np.testing.assert_array_equal(a[name], b[name])
    hmm = make_model("hmm")
    t = Session(hmm, seed=0).current.theta
    flipped = hmm.theta({"startprob": t["startprob"][::-1], "transmat": t["transmat"][::-1, ::-1],
                         "means": t["means"][::-1], "variances": t["variances"][::-1]})
    assert canonical(hmm, flipped)[1] and hmm.loglik(flipped) == pytest.approx(hmm.loglik(t), rel=1e-12)


def test_restarts_cli_prints_the_table_and_refuses_bad_counts(capsys):
    code = main(["restarts", "--model", "gmm1d", "--data", "galaxies", "--option", "K=3", "--starts", "6", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["starts"] == 6 and sum(p["count"] for p in out["fixed_points"]) == 6
    assert main(["restarts", "--model", "gmm1d", "--starts", "101"]) == 2
    assert "between 1 and 100" in capsys.readouterr().err
    with pytest.raises(ExplorerError, match="between 1 and 100"):
        run_restarts(make_model("linkage"), 0)


def converged_theta(model):
    session = Session(model, seed=0)
    session.run(tol=1e-10)
    return {k: np.asarray(v).tolist() for k, v in session.current.theta.items()}


def test_a_basins_map_of_the_two_means_shows_the_label_switching_symmetry():
    from explorer.core.basins import basins
    model = make_model("gmm1d")
    theta = converged_theta(model)
    theta["weights"], theta["variances"] = [0.5, 0.5], [40.0, 40.0]    # exchangeable components
    result = basins(model, theta, ("means[0]", "means[1]"), grid=21)
    assert result.label.shape == (21, 21) and sum(result.counts) == 21 * 21
    # swapping a start's two means swaps the labels of the fixed point it reaches
    for i in range(21):
        for j in range(21):
            if i == j:
                continue
            a = result.fixed_points[result.label[i, j]]["means"]
            b = result.fixed_points[result.label[j, i]]["means"]
            np.testing.assert_allclose(a, b[::-1], rtol=1e-4)
    pairs = sorted(result.logliks)
    assert pairs[-1] == pytest.approx(pairs[-2], rel=1e-9)         # the best fixed point and its twin


def test_the_batched_em_agrees_with_sessions():
    from explorer.core.basins import basins
    model = make_model("gmm1d")
    theta = converged_theta(model)
    result = basins(model, theta, ("means[0]", "means[1]"), grid=4, tol=1e-10, max_iterations=2000)
    for i, y in enumerate(result.y):
        for j, x in enumerate(result.x):
            start = {**theta, "means": [x, y]}
            session = Session(model, start, frozen={"weights", "variances"})
            session.run(tol=1e-10, max_iterations=2000)
            reached = result.fixed_points[result.label[i, j]]
            np.testing.assert_allclose(session.current.theta["means"], reached["means"], rtol=1e-4)


def test_basins_in_the_app():
    from explorer.app import ExplorerState
    state = ExplorerState(model_name="gmm1d")
    state.run_to_convergence()
    state.analyses.run_basins(grid=12)
    assert state.analyses.basins.keys == ("means[0]", "means[1]") and len(state.analyses.basins.fixed_points) >= 2
