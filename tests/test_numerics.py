"""Numerics that hold to convergence (issue 30): exact zeros, underflow, floors that are warnings,
caches keyed by value. Each test names the failure it guards against on the old code."""
import numpy as np
import pytest
from scipy.special import logsumexp, xlogy

from explorer import Session, make_model
from explorer.core.constraints import PROBABILITY_FLOOR
from explorer.core.errors import ExplorerError, ModelValueError
from explorer.models.hmm import forward_backward

from .helpers import enumerate_paths


# ----- HMM: forward–backward exact for every valid θ, zeros included ------------------------------
def log_forward(start, transition, log_b):
    """An independent log p: the forward recursion in log space with scipy's logsumexp."""
    with np.errstate(divide="ignore"):
        log_a, log_pi = np.log(transition), np.log(start)
    a = log_pi + log_b[:, 0]
    for t in range(1, log_b.shape[1]):
        a = logsumexp(a[:, None] + log_a, axis=0) + log_b[:, t]
    return float(logsumexp(a))


def hmm_on(x, theta_values, k):
    model = make_model("hmm", K=k).with_data(np.asarray(x, dtype=float))
    return model, model.theta(theta_values)


ZERO_CASES = {
    # a chain that must alternate, emissions 40 standard deviations apart: old code gave NaN
    "alternating": ([0.0, 40.0, 0.0, 40.0, 0.0, 40.0],
                    {"startprob": [0.0, 1.0], "transmat": [[0.0, 1.0], [1.0, 0.0]],
                     "means": [0.0, 40.0], "variances": [1.0, 1.0]}),
    # π forbids the state the first point sits on; A is safe (all > 0): the first step underflowed
    "start-zero": ([0.0, 0.1, 39.0, 40.0, 0.2],
                   {"startprob": [0.0, 1.0], "transmat": [[0.6, 0.4], [0.3, 0.7]],
                    "means": [0.0, 40.0], "variances": [1.0, 1.0]}),
    # a reducible chain (two closed classes): the scaled recursion drops the class that is
    # 1e-308 behind early and needed later
    "reducible": ([0.0] * 3 + [40.0] * 3,
                  {"startprob": [0.5, 0.5, 0.0], "transmat": [[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.5, 0.5]],
                   "means": [40.0, 0.0, 2.0], "variances": [1.0, 1.0, 1.0]}),
}


@pytest.mark.parametrize("case", sorted(ZERO_CASES))
def test_hmm_zero_probabilities_give_the_exact_log_p_and_posterior(case):
    """Old code: log p = NaN (alternating, start-zero) or wrong (reducible), and the M step then
    failed with 'startprob must be finite'."""
    x, values = ZERO_CASES[case]
    k = len(values["means"])
    model, theta = hmm_on(x, values, k)
    log_b = model.log_emission(theta)
    loglik, gamma, xi = enumerate_paths(theta["startprob"], theta["transmat"], log_b)
    assert loglik == pytest.approx(log_forward(theta["startprob"], theta["transmat"], log_b), rel=1e-12)
    assert model.loglik(theta) == pytest.approx(loglik, rel=1e-12)
    q = model.posterior(theta)
    np.testing.assert_allclose(q.gamma, gamma, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(q.xi, xi, rtol=1e-9, atol=1e-300)
    assert np.all(q.xi[np.asarray(theta["transmat"]) == 0] == 0)       # no mass where A = 0
    F = model.expected_complete_loglik(theta, q) + model.entropy(q)
    assert F == pytest.approx(loglik, rel=1e-12)                           # the E step closes the gap
    step = Session(model, values)
    step.e_step()
    state = step.m_step()                                                  # an M step from there works
    assert np.isfinite(state.loglik) and np.isfinite(state.F)


def test_hmm_far_apart_emissions_on_a_long_series_match_the_log_space_recursion():
    """A 300-step cycle with zeros in π and A and emissions 40 sd apart, the first point far from
    the only state π allows (log p in the hundreds, as the issue's case at ≈ −784.49): old code
    gave NaN."""
    rng = np.random.default_rng(4)
    states = (np.arange(300) + 1) % 3
    states[0] = 0
    x = np.array([0.0, 40.0, 80.0])[states] + rng.normal(size=300)
    values = {"startprob": [0.0, 1.0, 0.0], "transmat": [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]],
              "means": [0.0, 40.0, 80.0], "variances": [1.0, 1.0, 1.0]}
    model, theta = hmm_on(x, values, 3)
    expected = log_forward(theta["startprob"], theta["transmat"], model.log_emission(theta))
    assert -2000 < expected < -1000
    assert model.loglik(theta) == pytest.approx(expected, rel=1e-12)
    # the scaled recursion (A all safe) and the log one agree where both apply
    soft = dict(values, transmat=np.full((3, 3), 1e-3) + np.eye(3)[[1, 2, 0]] * (1 - 3e-3), startprob=[1e-3, 1 - 2e-3, 1e-3])
    model, theta = hmm_on(x, soft, 3)
    log_b = model.log_emission(theta)
    assert forward_backward(theta["startprob"], theta["transmat"], log_b)[0] == pytest.approx(
        log_forward(theta["startprob"], theta["transmat"], log_b), rel=1e-12)


@pytest.mark.parametrize("seed", [2, 3])
def test_hmm_f_stays_finite_to_convergence_and_a_floored_probability_is_a_warning(seed):
    """Old code (seed 3): at half step 358 an M step underflowed A[1,1] to exactly 0 while q
    still expected that transition, so F = −∞ with log p finite."""
    session = Session(make_model("hmm", K=3), seed=seed)
    for _ in range(180):
        session.iterate()
    states = session.states
    assert all(np.isfinite(s.loglik) and np.isfinite(s.F) for s in states)
    assert all(s.kl >= -1e-9 * abs(s.loglik) for s in states)
    assert all(b.F >= a.F - 1e-9 * abs(a.F) for a, b in zip(states[1:], states[2:]))
    for s in states:
        held = [(name, index) for name in ("startprob", "transmat")
                for index in np.argwhere(s.theta[name] == PROBABILITY_FLOOR)]
        symbols = {"startprob": "π", "transmat": "A"}
        for name, index in held:
            label = f"{symbols[name]}[{','.join(str(i + 1) for i in index)}] held at the floor"
            assert any(w.startswith(label) for w in s.warnings), (s.index, s.warnings)
    if seed == 3:
        assert any(np.any(s.theta["transmat"] == PROBABILITY_FLOOR) for s in states)


# ----- θ immutable, caches keyed by value -----------------------------------------------------------
def cache_models():
    """One model of each cache kind: a latent-class model's pass, the HMM's chain."""
    return [make_model("gmm1d"), make_model("hmm")]


@pytest.mark.parametrize("model", cache_models(), ids=lambda m: m.name)
def test_a_theta_changed_in_place_and_passed_again_gets_its_own_log_p(model):
    """Old code: the caches were keyed by the identity of θ's dict, so a plain dict changed in
    place and passed again returned the stale log p (and posterior) of its old value."""
    start = model.start_theta(0)
    theta = {name: np.array(value) for name, value in start.items()}    # a caller's own, mutable
    before = model.loglik(theta)
    theta["means"] = theta["means"] + 1.0
    after = model.loglik(theta)
    assert after == pytest.approx(model.with_data(model.data).loglik(dict(theta)), rel=1e-12)
    assert after != before
    theta["means"][0] -= 2.0                                                 # in place, array and all
    fresh = model.with_data(model.data)
    assert model.loglik(theta) == pytest.approx(fresh.loglik({k: v.copy() for k, v in theta.items()}), rel=1e-12)


def test_a_validated_theta_and_a_states_q_cannot_change():
    model = make_model("gmm1d")
    session = Session(model, seed=0)
    state = session.e_step()
    theta = state.theta
    with pytest.raises(TypeError, match="immutable"):
        theta["means"] = np.zeros(2)
    with pytest.raises(TypeError):
        theta.update(means=np.zeros(2))
    with pytest.raises(ValueError):
        theta["means"][0] = 0.0
    with pytest.raises(ValueError):
        np.asarray(state.q)[0, 0] = 0.5
    assert {**theta, "means": np.zeros(2)}["means"].tolist() == [0.0, 0.0]     # new θ from an old one
    assert model.loglik(theta) == state.loglik


def test_statistics_of_a_q_that_can_change_are_not_remembered():
    """A writable q changed in place after its statistics were taken gets new statistics."""
    model = make_model("gmm1d")
    theta = model.start_theta(0)
    q = np.array(model.posterior(theta))
    ecll = model.expected_complete_loglik(theta, q)
    q[:] = q[::-1]
    assert model.expected_complete_loglik(theta, q) == pytest.approx(model.joint_ecll(theta, q), rel=1e-12)
    assert model.expected_complete_loglik(theta, q) != pytest.approx(ecll)


# ----- gradient moves stay feasible --------------------------------------------------------------
@pytest.mark.parametrize("schedule, seed", [("gradient:1", 3), ("gradient:10", 0), ("gradient:10", 2)])
def test_mvn_missing_gradient_steps_stay_positive_definite(schedule, seed):
    """Old code: a step in the Cholesky coordinates made Σ positive definite in exact arithmetic
    but not in floating point (eigenvalues 1e-17 apart in scale), so log p raised a bare
    LinAlgError ('Matrix is not positive definite', 'Singular matrix'), or F came out 1e79
    above log p (seed 2)."""
    session = Session(make_model("mvn-missing"), seed=seed, schedule=schedule)
    for _ in range(120):
        state = session.step()
        assert np.isfinite(state.loglik) and np.isfinite(state.F)
        assert state.kl >= -1e-9 * abs(state.loglik)
        values = np.linalg.eigvalsh(state.theta["covariance"])
        np.linalg.cholesky(state.theta["covariance"])
        assert values[0] > 1e-13 * values[-1]


def test_a_numerically_singular_covariance_is_refused_with_the_reason():
    model = make_model("mvn-missing")
    theta = dict(model.start_theta(0))
    theta["covariance"] = np.diag([1.0, 1.0, 1.0, 1e-15])
    with pytest.raises(ExplorerError, match="positive definite to working precision"):
        model.theta(theta)


def test_a_gradient_step_with_no_feasible_ascent_says_so(monkeypatch):
    """Every trial θ off the start raises (as a matrix losing definiteness would): the step
    keeps θ, and its detail says why the run stopped."""
    model = make_model("mvn-missing")
    session = Session(model, seed=0, schedule="gradient")
    session.e_step()
    start = session.current.theta
    real = model.expected_complete_loglik

    def only_at_start(theta, q):
        if not all(np.array_equal(theta[k], start[k]) for k in start):
            raise np.linalg.LinAlgError("Matrix is not positive definite")
        return real(theta, q)
    monkeypatch.setattr(model, "expected_complete_loglik", only_at_start)
    state = session.m_step()
    assert state.stalled and state.theta is start
    assert "no feasible" in state.detail and "stopped, not converged" in state.detail


# ----- M-type steps keep θ in its space; a collapse stops the run, named ---------------------------
def test_a_gradient_step_that_collapses_a_component_stops_the_run_naming_it():
    """Old code: a gradient step took the variance of the component sitting on the outlier
    below the floor the M step keeps to, on its way to log p → +∞, without a word."""
    x = np.concatenate([np.random.default_rng(0).normal(size=50), [10.0]])
    model = make_model("gmm1d").with_data(x)
    start = {"weights": [0.98, 0.02], "means": [0.0, 10.0], "variances": [1.0, 1.1 * model.floor]}
    session = Session(model, start, schedule="gradient:10", frozen={"means", "weights"})
    with pytest.raises(ExplorerError, match=r"component 2 collapsed onto one point: log p → \+∞"):
        for _ in range(40):
            before = session.step()
    assert session.current is before and session.current.theta["variances"][1] >= model.floor
    em = Session(model, start)                      # the M step holds it at the floor, with a warning
    em.iterate()
    assert em.current.theta["variances"][1] == model.floor
    assert any(w.startswith("component 2: variance held at the floor") for w in em.current.warnings)


@pytest.mark.parametrize("value, error, message", [
    (float("nan"), ModelValueError, r"expected_complete_loglik\(θ, q\).*returned nan"),   # the method is named
    (float("-inf"), ExplorerError, r"the M step gave log p = .*F = -inf: stopped before it"),  # finite F broken
])
def test_a_step_that_would_give_a_non_finite_f_stops_with_a_message(monkeypatch, value, error, message):
    """Any half step whose log p or F is not finite is refused with a message, not recorded."""
    model = make_model("gmm1d")
    session = Session(model, seed=0)
    session.e_step()
    monkeypatch.setattr(model, "expected_complete_loglik", lambda theta, q: value)
    with pytest.raises(error, match=message):
        session.m_step()
    assert session.current.index == 1


def test_a_mixture_weight_that_would_underflow_is_held_at_the_floor_with_a_warning():
    """Old code: N_2 / N underflowed to a weight of exactly 0 while q still gave component 2 a
    (tiny) count, so E_q log p = N_2 log 0 = −∞."""
    model = make_model("gmm1d")
    theta = model.start_theta(0)
    q = np.zeros((2, len(model.data)))
    q[0] = 1.0
    q[1, 0] = 5e-324
    q.setflags(write=False)
    new = model.maximize(q, theta)
    assert new["weights"][1] == PROBABILITY_FLOOR
    assert np.isfinite(model.expected_complete_loglik(new, q))
    assert any("weight held at the floor" in w for w in model.warnings(new))


def test_mvn_missing_collinear_columns_hold_sigma_definite_with_a_warning():
    """Old code: with a column the sum of two others, EM drives Σ to singular and a few dozen
    half steps later log p raised a bare LinAlgError ('Singular matrix')."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3))
    x[:, 2] = x[:, 0] + x[:, 1]
    x[::5, 0] = np.nan
    session = Session(make_model("mvn-missing").with_data(x), seed=0)
    for _ in range(120):
        state = session.step()
        assert np.isfinite(state.loglik) and np.isfinite(state.F)
    values = np.linalg.eigvalsh(state.theta["covariance"])
    assert values[0] >= 0.999e-12 * values[-1]
    assert any(w.startswith("Σ held positive definite") for s in session.states for w in s.warnings)


# ----- the CSV reader streams ---------------------------------------------------------------------
def write_csv(path, values):
    np.savetxt(path, values, delimiter=",", header="a,b,c", comments="", fmt="%.9g")


def test_reading_a_csv_takes_a_small_multiple_of_the_numbers_memory(tmp_path):
    """Old code: the whole text, then a list of rows of Python strings (about 15 times the
    numbers' size) before the array was filled."""
    import tracemalloc
    from explorer.datasets import read_table
    values = np.random.default_rng(0).normal(size=(400_000, 3))
    path = tmp_path / "big.csv"
    write_csv(path, values)
    assert path.stat().st_size > 10 * 2**20
    tracemalloc.start()
    try:
        header, table = read_table(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert header == ["a", "b", "c"]
    np.testing.assert_allclose(table, values, rtol=1e-8)
    assert peak < 3 * table.nbytes, (peak, table.nbytes)


def test_the_streamed_reader_names_the_row_of_an_error_past_the_first_chunk(tmp_path, monkeypatch):
    from explorer import datasets
    monkeypatch.setattr(datasets, "CHUNK_ROWS", 7)
    lines = ["x,y"] + [f"{i},{2 * i}" for i in range(30)]
    lines[20] = "19,abc"                    # row 21 counting the header as row 1
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ExplorerError, match=r"row 21, column 'y': 'abc' is not a number"):
        datasets.read_table(path)
    lines[20] = "19"
    path.write_text("\n".join(lines[:5] + [""] + lines[5:]) + "\n")       # a blank line is skipped
    with pytest.raises(ExplorerError, match=r"line 21 has 1 value, but the header names 2 columns"):
        datasets.read_table(path)
    path.write_text("\n".join(lines[:20] + lines[21:]) + "\n")
    header, table = datasets.read_table(path)
    assert table.shape == (29, 2) and table[-1].tolist() == [29.0, 58.0]


def test_a_csv_past_the_stated_limit_is_refused_with_the_limit(tmp_path, monkeypatch):
    from explorer import datasets
    monkeypatch.setattr(datasets, "CHUNK_ROWS", 10)
    monkeypatch.setattr(datasets, "MAX_VALUES", 50)
    path = tmp_path / "many.csv"
    write_csv(path, np.ones((40, 3)))
    with pytest.raises(ExplorerError, match="more than 50 numbers .* is over the limit for a data file"):
        datasets.read_table(path)


def test_incremental_hard_em_does_not_stop_on_a_count_rounded_below_zero():
    """Old code: with K=3, hard q and blocks of 50, the running count of an emptied component
    came out −1.4e-16 (add the block's new q, subtract its old), the weight with it, and the
    run stopped with "parameter 'weights' must be non-negative", which is not the cause."""
    session = Session(make_model("gmm1d", K=3), seed=0, family="hard", schedule="incremental:50")
    for _ in range(60):
        state = session.step()
    assert np.all(state.theta["weights"] >= 0) and np.isfinite(state.F)


def test_the_log_space_recursion_agrees_with_the_scaled_one_past_a_chunk():
    """Both recursions (the chunked log-space scan and the scaled one) on a series longer than
    a few chunks, where both apply, and the log one against the plain log-space loop."""
    from explorer.models.hmm import log_forward_backward
    rng = np.random.default_rng(7)
    k, t = 3, 700
    log_b = rng.normal(size=(k, t)) * 4
    start, transition = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k), size=k)
    scaled, logged = forward_backward(start, transition, log_b), log_forward_backward(start, transition, log_b)
    assert logged[0] == pytest.approx(log_forward(start, transition, log_b), rel=1e-12)
    assert logged[0] == pytest.approx(scaled[0], rel=1e-12) and logged[2] == pytest.approx(scaled[2], rel=1e-9)
    np.testing.assert_allclose(logged[1].gamma, scaled[1].gamma, atol=1e-10)
    np.testing.assert_allclose(logged[1].xi, scaled[1].xi, atol=1e-10)
    transition[0, 1:] = [1.0, 0.0]                                   # zeros: the log path, checked alone
    transition[0, 0] = 0.0
    assert forward_backward(start, transition, log_b)[0] == pytest.approx(
        log_forward(start, transition, log_b), rel=1e-12)


@pytest.mark.parametrize("k, t", [(1, 70), (2, 2), (2, 8), (2, 9), (2, 10), (3, 17), (3, 1000), (2, 40_001),
                                  (2, 40_010)])
def test_the_chunked_scaled_recursion_agrees_with_the_log_space_one_at_every_chunk_edge(k, t):
    """`scaled_scans` cuts the T − 1 steps into chunks of L (8 up to T ≈ 32,000, then 16: see
    `chunk_length`; both directions share the chunks' products) and runs the steps after the last
    whole chunk one by one: no chunk (T ≤ 8), whole chunks only (T = 9, 17, 40,001), chunks and
    a rest, one state. Against the log-space recursion, computed independently."""
    from explorer.models.hmm import log_forward_backward
    rng = np.random.default_rng(k * 10_000 + t)
    log_b = rng.normal(size=(k, t)) * 3
    start, transition = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k), size=k)
    (loglik, q, entropy), (logged, exact, logged_entropy) = (forward_backward(start, transition, log_b),
                                                              log_forward_backward(start, transition, log_b))
    assert loglik == pytest.approx(logged, rel=1e-12)
    assert entropy == pytest.approx(logged_entropy, rel=1e-10, abs=1e-9)
    np.testing.assert_allclose(q.gamma, exact.gamma, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(q.xi, exact.xi, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(q.transitions, exact.xi.sum(axis=2), rtol=1e-11)


def test_the_e_step_sums_the_pair_marginals_without_making_them():
    """Old code: every E step made ξ as a K × K × (T − 1) array (72 MB at T = 10⁶, K = 3) and the
    posterior held it, though the E step needs only Σ_t ξ_t. Now the posterior holds γ and the
    filtered α̂, and makes ξ when asked for, equal to the log-space recursion's."""
    from explorer.core.model import q_arrays
    from explorer.models.hmm import log_forward_backward
    k, t = 3, 3000
    model = make_model("hmm", synthetic={"n": t, "seed": 1, "separation": 2.0}, K=k)
    theta = model.init_theta(np.random.default_rng(0))
    q = model.posterior(theta)
    assert max(array.size for array in q_arrays(q)) < k * k * (t - 1)
    _, exact, _ = log_forward_backward(theta["startprob"], theta["transmat"], model.log_emission(theta))
    np.testing.assert_allclose(q.xi, exact.xi, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(q.transitions, exact.xi.sum(axis=2), rtol=1e-11)
    assert model.entropy(q) == pytest.approx(float(-np.sum(xlogy(exact.xi, exact.xi))
                                                   + np.sum(xlogy(exact.gamma[:, 1:-1], exact.gamma[:, 1:-1]))),
                                             rel=1e-10)
