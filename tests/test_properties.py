"""The variational identities, for random θ and q, on every built-in model (hypothesis)."""
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from explorer import Session
from explorer.core.model import perturb
from explorer.core.objective import evaluate, free_energy

from .conftest import MODEL_FACTORIES, random_theta

MODELS = {name: make() for name, make in MODEL_FACTORIES.items()}
model_names = st.sampled_from(sorted(MODELS))
seeds = st.integers(0, 2**32 - 1)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scale(*values):
    return 1.0 + max(abs(v) for v in values)


@SETTINGS
@given(name=model_names, seed=seeds)
def test_bound_holds_for_random_q_and_kl_is_nonnegative(name, seed):
    model, rng = MODELS[name], np.random.default_rng(seed)
    theta, q = random_theta(model, rng), model.random_q(rng)
    values = evaluate(model, theta, q)
    assert values.F <= values.loglik + 1e-10 * scale(values.loglik)
    assert values.kl >= -1e-10 * scale(values.loglik)


@SETTINGS
@given(name=model_names, seed=seeds)
def test_exact_e_step_closes_the_gap(name, seed):
    model, rng = MODELS[name], np.random.default_rng(seed)
    theta = random_theta(model, rng)
    values = evaluate(model, theta, model.posterior(theta))
    assert abs(values.F - values.loglik) <= 1e-9 * abs(values.loglik)


@SETTINGS
@given(name=model_names, seed=seeds)
def test_log_likelihood_never_decreases_over_50_iterations(name, seed):
    model = MODELS[name]
    session = Session(model, seed=seed % 2**31)
    previous = session.current.loglik
    for _ in range(50):
        state = session.iterate()
        assert state.loglik >= previous - 1e-10 * scale(previous)
        previous = state.loglik


@SETTINGS
@given(name=model_names, seed=seeds, freeze_mask=st.integers(0, 7))
def test_m_step_is_a_maximiser_of_f(name, seed, freeze_mask):
    """No random feasible move of the free parameters from the M step's θ raises F(θ, q)."""
    model, rng = MODELS[name], np.random.default_rng(seed)
    names = [p.name for p in model.params()]
    frozen = frozenset(n for i, n in enumerate(names) if freeze_mask >> i & 1)
    q = model.posterior(random_theta(model, rng))
    best = model.maximize(q, random_theta(model, rng), frozen)
    f_best = free_energy(model, best, q)
    for size in (1e-1, 1e-2, 1e-4):
        for _ in range(5):
            moved = perturb(model.params(), best, rng, size, frozen)
            assert free_energy(model, moved, q) <= f_best + 1e-10 * scale(f_best)


@SETTINGS
@given(name=model_names, seed=seeds)
def test_every_state_of_a_session_satisfies_the_identity(name, seed):
    session = Session(MODELS[name], seed=seed % 2**31)
    for _ in range(3):
        session.iterate()
    for state in session.states:
        assert state.F <= state.loglik + 1e-10 * scale(state.loglik)
        if state.kind == "E":
            assert abs(state.kl) <= 1e-9 * abs(state.loglik)


def test_sufficient_statistics_give_the_same_expected_log_likelihood(rng):
    """E_q log p(X, Z | θ) from the statistics equals Σ q log p(x, z | θ) from the log joint."""
    for name in ("coins", "gmm1d", "gmm2d"):
        model = MODELS[name]
        for _ in range(5):
            theta, q = random_theta(model, rng), model.random_q(rng)
            direct = model.joint_ecll(theta, q)
            via_stats = model.expected_complete_loglik(theta, q)
            assert abs(via_stats - direct) <= 1e-10 * scale(direct)


def test_kl_gap_agrees_with_its_closed_form(rng):
    """KL = log p − F equals Σ q log(q / posterior) computed directly."""
    from scipy.special import xlogy
    for model in MODELS.values():
        for _ in range(5):
            theta, q = random_theta(model, rng), model.random_q(rng)
            posterior = model.posterior(theta)
            if model.name == "student-t":  # Gamma(a_i, b_i) against Gamma(a*, b*_i), in closed form
                from scipy.special import digamma, gammaln
                a, b, a0, b0 = q.shape, q.rate, posterior.shape, posterior.rate
                direct = np.sum((a - a0) * digamma(a) - gammaln(a) + gammaln(a0) + a0 * (np.log(b) - np.log(b0))
                                + a * (b0 - b) / b)
                values = evaluate(model, theta, q)
                assert abs(values.kl - direct) <= 1e-8 * scale(values.loglik)
                continue
            if model.name == "hmm":  # two Markov chains: Σ_t KL of pair marginals − interior one-step ones
                values = evaluate(model, theta, q)
                direct = (np.sum(xlogy(q.xi, q.xi) - xlogy(q.xi, posterior.xi))
                          - np.sum(xlogy(q.gamma[:, 1:-1], q.gamma[:, 1:-1]) - xlogy(q.gamma[:, 1:-1], posterior.gamma[:, 1:-1])))
                assert abs(values.kl - direct) <= 1e-8 * scale(values.loglik)
                continue
            if model.name == "mvn-missing":  # row by row: KL of N(x̂_m, C) against N(m*, C*)
                values = evaluate(model, theta, q)
                direct = 0.0
                for i in range(len(model.data)):
                    m = ~model.observed[i]
                    if m.any():
                        c, c0 = q.cov[i][np.ix_(m, m)], posterior.cov[i][np.ix_(m, m)]
                        diff = q.filled[i, m] - posterior.filled[i, m]
                        direct += 0.5 * (np.trace(np.linalg.solve(c0, c)) + diff @ np.linalg.solve(c0, diff)
                                         - m.sum() + np.linalg.slogdet(c0)[1] - np.linalg.slogdet(c)[1])
                assert abs(values.kl - direct) <= 1e-8 * scale(values.loglik)
                continue
            if model.name in ("two-source", "factor-analysis"):
                continue   # Gaussian q: checked against the closed form in test_families.py
            if model.name == "censored":  # Exp(r_i) against Exp(λ): log(r/λ) + λ/r − 1 per unit
                direct = np.sum(np.log(q / posterior) + posterior / q - 1)
            elif model.name == "linkage":   # y1 independent Bernoulli(π) against Bernoulli(π*)
                q, posterior = np.array([q, 1 - q]), np.array([posterior, 1 - posterior])
                direct = model.data[0] * np.sum(xlogy(q, q) - xlogy(q, posterior))
            else:
                direct = np.sum(xlogy(q, q) - xlogy(q, posterior))
            values = evaluate(model, theta, q if model.name != "linkage" else q[0])
            assert abs(values.kl - direct) <= 1e-8 * scale(values.loglik)
