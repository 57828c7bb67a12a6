"""The bound slice and the θ–q landscape: the pictures obey the variational identities."""
import json

import numpy as np
import pytest

from explorer import Session
from explorer.cli import main
from explorer.core.families import get_family
from explorer.core.landscape import LandscapeCalculator, free_coordinate_count, staircase

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
    picture = calc.landscape(s.theta, s.q, KEYS[name], free_coordinate_count(model, session.frozen))
    scale = 1e-9 * (1 + np.abs(picture.loglik))
    np.testing.assert_allclose(np.diag(picture.F), picture.loglik, atol=0, rtol=1e-9)
    np.testing.assert_allclose(picture.best_bound, picture.loglik, rtol=1e-9)
    assert np.all(picture.F <= picture.loglik[None, :] + scale[None, :])      # F[φ][t] ≤ log p(t)

    bound = calc.bound_slice(s.theta, s.q, KEYS[name])
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
    ts, phis, indices = staircase(session.states, "theta")
    assert indices[0] == 2 and session.states[2].kind == "E"
    for k in range(1, len(ts)):
        kind = session.states[indices[k]].kind
        if kind == "E":
            assert ts[k] == ts[k - 1] and phis[k] == ts[k]     # along φ, onto the diagonal
        else:
            assert phis[k] == phis[k - 1]                      # along t


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
