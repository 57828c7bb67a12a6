"""Generalized and incremental EM (issue 5): every schedule keeps F from decreasing, incremental
EM with B = N is EM, all reach EM's fixed point, and the running statistics stay exact."""
import json

import numpy as np
import pytest

from explorer import Session, make_model
from explorer.cli import main
from explorer.core.families import get_family
from explorer.core.landscape import LandscapeCalculator
from explorer.core.picture import picture
from explorer.core.schedules import parse_schedule

from .conftest import MODEL_FACTORIES

SCHEDULES = ["em", "ecm", "gradient:0.2", "incremental:7", "incremental:5:random"]
CASES = [(name, schedule) for name in sorted(MODEL_FACTORIES) for schedule in SCHEDULES
         if parse_schedule(schedule).supports(MODEL_FACTORIES[name]())]


def test_schedules_are_offered_where_they_apply():
    supported = {name for name, schedule in CASES if schedule.startswith("incremental")}
    assert supported == {"coins", "gmm1d", "gmm2d", "bernoulli-mixture", "regression-mixture"}
    assert {name for name, schedule in CASES if schedule == "gradient:0.2"} == set(MODEL_FACTORIES)


@pytest.mark.parametrize("name, schedule", CASES)
def test_no_half_step_of_any_schedule_decreases_f(name, schedule):
    session = Session(MODEL_FACTORIES[name](), seed=4, schedule=schedule)
    for _ in range(40):
        before = session.current
        after = session.step()
        assert after.F >= before.F - 1e-9 * (1 + abs(before.F)), (after.kind, after.detail)
        assert after.F <= after.loglik + 1e-9 * (1 + abs(after.loglik))
    passes = [s.passes for s in session.states]
    assert passes == sorted(passes) and passes[-1] > 0


def test_incremental_with_one_block_is_em():
    model = make_model("gmm1d", data="faithful-waiting")
    em = Session(model, seed=1)
    incremental = Session(model, seed=1, schedule=f"incremental:{len(model.data)}")
    for _ in range(25):
        a, b = em.iterate(), incremental.iterate()
        for key in a.theta:
            np.testing.assert_allclose(b.theta[key], a.theta[key], rtol=1e-12, atol=0)
        assert b.loglik == pytest.approx(a.loglik, rel=1e-12)
        assert b.F == pytest.approx(a.F, rel=1e-12)
    assert incremental.current.passes == em.current.passes == 25


@pytest.mark.parametrize("schedule", ["ecm", "gradient:0.5", "incremental:20", "incremental:16:random"])
def test_every_schedule_reaches_the_em_fixed_point(schedule):
    model = make_model("gmm1d", synthetic={"n": 400, "seed": 2, "separation": 4.0}, K=2)
    reference = Session(model, seed=0)
    assert reference.run(tol=1e-12, max_iterations=5000).converged
    session = Session(model, seed=0, schedule=schedule)
    result = session.run(tol=1e-12, max_iterations=200_000)
    # a gradient step stalls once F cannot resolve a better θ: stopped near, not certified at, the fixed point
    assert result.converged or (schedule.startswith("gradient") and result.stalled)
    for key, value in reference.current.theta.items():
        np.testing.assert_allclose(session.current.theta[key], value, rtol=1e-4, atol=1e-6)
    assert session.current.loglik == pytest.approx(reference.current.loglik, abs=1e-6)


@pytest.mark.parametrize("name", ["coins", "gmm1d", "gmm2d"])
@pytest.mark.parametrize("order", ["", ":random"])
def test_running_statistics_match_a_full_recomputation_after_every_step(name, order):
    model = MODEL_FACTORIES[name]()
    session = Session(model, seed=3, schedule=f"incremental:3{order}")
    for _ in range(30):
        state = session.step()
        full = model.suff_stats(state.q)
        for key, value in full.items():
            np.testing.assert_allclose(state.stats[key], value, rtol=1e-10, atol=1e-10)
        assert state.entropy == pytest.approx(model.entropy(state.q), rel=1e-10, abs=1e-10)
        assert state.F == pytest.approx(model.joint_ecll(state.theta, state.q) + model.entropy(state.q),
                                        rel=1e-10)


def test_incremental_blocks_cycle_and_undo_needs_no_bookkeeping():
    model = make_model("coins")
    session = Session(model, {"theta_A": 0.6, "theta_B": 0.5}, schedule="incremental:2")
    details = [session.iterate() and session.states[-2].detail for _ in range(4)]
    assert details == ["block 1 of 3: 2 of 5 points", "block 2 of 3: 2 of 5 points",
                       "block 3 of 3: 1 of 5 points", "block 1 of 3: 2 of 5 points"]
    session.undo()
    session.undo()                                     # back before the 4th E step
    assert session.e_step().detail == "block 1 of 3: 2 of 5 points"
    np.testing.assert_allclose(session.current.passes, 5 / 5 + 2 / 5)   # one pass, then a block


def test_ecm_cycles_through_the_free_blocks():
    session = Session(make_model("gmm1d"), seed=0, schedule="ecm", frozen={"weights"})
    kinds = [(s.kind, s.detail) for s in (session.step() for _ in range(6))]
    assert kinds == [("E", ""), ("M", "CM step: means"), ("M", "CM step: variances"),
                     ("E", ""), ("M", "CM step: means"), ("M", "CM step: variances")]


def test_partial_e_steps_are_placed_on_the_contour_of_their_own_f():
    session = Session(make_model("coins"), {"theta_A": 0.6, "theta_B": 0.5}, frozen={"theta_B", "weight_A"},
                      schedule="incremental:2")
    for _ in range(3):
        session.iterate()
    assert all(s.partial for s in session.states[1:])
    calc = LandscapeCalculator(session.model, get_family("exact"), 60)
    drawn = picture(session, "theta_A", calc, zoom=False)
    path, grid, F = drawn.path, drawn.landscape.grid, drawn.landscape.F
    reached = 0
    assert all(path.placed) and path.index == list(range(7))   # every state drawn, none snapped to a q_φ
    for t, phi, value in list(zip(path.t, path.phi, path.F))[1:]:
        column = np.array([np.interp(t, grid, row) for row in F])   # F(θ_t, q_φ) along φ
        if column.min() <= value <= column.max():                   # else it sits at the nearest edge
            reached += 1
            assert np.interp(phi, grid, column) == pytest.approx(value, abs=1e-6 * (1 + abs(value)))
    assert reached >= 4
    assert drawn.now == (path.t[-1], path.phi[-1], session.current.F)
    em = Session(make_model("coins"), {"theta_A": 0.6, "theta_B": 0.5})
    em.iterate()
    assert picture(em, "theta_A", calc).path.placed == [True, False, False]


def test_cli_schedule(capsys):
    code = main(["trace", "--model", "gmm1d", "--schedule", "incremental:68", "--iterations", "4", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["schedule"] == "incremental:68"
    assert [s["passes"] for s in out["states"]] == [0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1.0, 1.0]
    for bad, message in (("gradient:-1", "must be a positive finite number"), ("incremental:x", "cannot read"),
                         ("newton", "unknown schedule")):
        code = main(["trace", "--model", "gmm1d", "--schedule", bad, "--iterations", "1"])
        assert code == 2 and message in capsys.readouterr().err


def test_long_runs_can_drop_old_q_and_undo_stops_there():
    session = Session(make_model("coins"), seed=0, keep_q=3)
    for _ in range(5):
        session.iterate()
    assert [s.q is None for s in session.history] == [True] * 8 + [False] * 3
    assert session.earliest == 8
    for _ in range(5):
        session.undo()
    assert session.position == 8 and not session.can_undo
    session.iterate()                                 # stepping on from there still works
    assert session.current.index == 10
    # a step after an undo drops the states ahead; the states without q stay out of reach
    for _ in range(3):
        session.undo()
    assert session.position == session.earliest and session.current.q is not None
    session.e_step()
    assert all(s.q is None for s in session.history[: session.earliest])
    while session.can_undo:
        session.undo()
    assert session.current.q is not None
    session.iterate()
    assert session.current.e_steps == sum(s.kind == "E" for s in session.states)


def test_ecm_cycle_goes_on_across_e_steps():
    """Pressing E, M, E, M, ... with ECM reaches every block in turn (it used to restart the
    cycle after each E step and only ever update the first block)."""
    session = Session(make_model("gmm1d"), seed=1, schedule="ecm")
    blocks = [p.name for p in session.model.params() if p.name not in session.frozen]
    for _ in range(len(blocks)):
        session.e_step()
        session.m_step()
    assert [s.detail for s in session.states if s.kind == "M"] == [f"CM step: {b}" for b in blocks]
    session.iterate()                      # an EM iteration is an E step and a full cycle
    assert [s.kind for s in session.states[-len(blocks) - 1:]] == ["E"] + ["M"] * len(blocks)


def test_schedules_for_declares_what_runs_and_says_why_not():
    from explorer.core.schedules import schedules_for, why_not
    linkage, gmm = make_model("linkage"), make_model("gmm1d")
    assert schedules_for(gmm, get_family("exact")) == ["em", "ecm", "gradient", "incremental"]
    assert "incremental" not in schedules_for(linkage, get_family("exact"))
    assert "mixture" in why_not("incremental", linkage, get_family("exact"))
    two = make_model("two-source")
    assert why_not("em", two, get_family("mean-field")) is None
