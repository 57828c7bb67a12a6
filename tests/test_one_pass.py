"""The one pass per θ (latent_class.normalise): its shortcuts agree with the plain formulas."""
import numpy as np
import pytest

from explorer import Session, make_model
from explorer.core.latent_class import normalise, sum_of_logs
from explorer.core.model import add_stats


def plain(joint):
    """log p, q and H(q) by the textbook formulas (scipy's logsumexp, −Σ q log q)."""
    from scipy.special import logsumexp, xlogy
    norm = logsumexp(joint, axis=0)
    q = np.exp(joint - norm)
    return norm.sum(), q, -xlogy(q, q).sum()


@pytest.mark.parametrize("k", [2, 3, 5])
def test_normalise_matches_the_plain_formulas(k):
    rng = np.random.default_rng(k)
    joint = rng.normal(scale=30, size=(k, 5000))
    joint[0, :50] = -np.inf          # a class impossible at some points
    loglik, q, entropy = plain(joint)
    out = np.empty_like(joint)
    got_loglik, got_entropy = normalise(joint.copy(), out)
    assert got_loglik == pytest.approx(loglik, rel=1e-14)
    assert got_entropy == pytest.approx(entropy, rel=1e-12)
    np.testing.assert_allclose(out, q, rtol=1e-13, atol=1e-300)


def test_the_two_class_shortcut_gives_the_general_paths_numbers():
    rng = np.random.default_rng(1)
    joint = rng.normal(scale=10, size=(2, 4000))
    three = np.vstack([joint, np.full(4000, -np.inf)])   # a third, impossible class: general path
    two_q, three_q = np.empty_like(joint), np.empty_like(three)
    two = normalise(joint.copy(), two_q)
    general = normalise(three.copy(), three_q)
    assert two == pytest.approx(general, rel=1e-14)
    np.testing.assert_allclose(two_q, three_q[:2], rtol=1e-15)


def test_sum_of_logs_is_the_sum_of_the_logs():
    rng = np.random.default_rng(2)
    for k in (2, 12):
        values = 1 + (k - 1) * rng.random(100_003)
        assert sum_of_logs(values, k) == pytest.approx(np.log(values).sum(), rel=1e-14)


def test_one_pass_gives_the_posteriors_entropy_and_statistics():
    model = make_model("gmm1d", data="galaxies", K=3)
    theta = Session(model, seed=1).current.theta
    q = model.posterior(theta)
    from scipy.special import xlogy
    assert model.entropy(q) == pytest.approx(-xlogy(q, q).sum(), rel=1e-13)
    whole = model.suff_stats(q)
    for name, value in model.stats(q).items():
        np.testing.assert_allclose(value, whole[name], rtol=1e-13)
    assert add_stats(whole, whole, -1.0)["count"] == pytest.approx(np.zeros(3))


def test_an_em_iteration_reads_the_data_once(monkeypatch):
    model = make_model("gmm1d", synthetic={"n": 50_000, "seed": 0, "separation": 3.0}, K=2)
    session = Session(model, seed=0)
    session.iterate()
    calls = []
    original = type(model).log_joint
    monkeypatch.setattr(type(model), "log_joint",
                        lambda self, theta, rows=slice(None): calls.append(rows) or original(self, theta, rows))
    session.iterate()
    covered = sum(r.stop - r.start for r in calls)
    assert covered == model.n_points()       # one pass: every point's log joint computed once


def test_a_session_past_its_history_budget_says_how_far_undo_reaches():
    model = make_model("gmm1d", synthetic={"n": 20_000, "seed": 0, "separation": 3.0}, K=2)
    session = Session(model, seed=0, history_budget=2 * 20_000 * 2 * 8)   # room for two q's
    assert session.history_note == ""
    for _ in range(3):
        session.iterate()
    assert session.keep_q == 2 and session.earliest > 0
    assert "undo reaches back 2 states" in session.history_note and "0.3 MB" in session.history_note
    while session.can_undo:
        session.undo()
    assert session.position == session.earliest and session.current.q is not None


def test_the_default_history_budget_bounds_the_memory_q_holds():
    """A Session made with no budget given keeps at most HISTORY_BUDGET bytes of q, however
    many steps it takes (the issue measured 0.77 MB a step without one)."""
    from explorer.core.session import HISTORY_BUDGET, q_bytes
    model = make_model("gmm1d", synthetic={"n": 100_000, "seed": 0, "separation": 3.0}, K=2)
    session = Session(model, seed=0)
    assert session.history_budget == HISTORY_BUDGET == 512 * 2**20
    assert session.keep_q == HISTORY_BUDGET // q_bytes(session.current.q) == 335
    for _ in range(200):
        session.iterate()
    kept = {id(s.q): q_bytes(s.q) for s in session.history if s.q is not None}
    assert sum(kept.values()) <= HISTORY_BUDGET
    assert len(session.history) == 401 and session.earliest == 401 - 335
