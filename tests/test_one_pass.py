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


@pytest.mark.parametrize("name, k", [("gmm1d", 2), ("gmm1d", 3), ("gmm2d", 3)])
def test_an_em_iteration_reads_the_data_once(monkeypatch, name, k):
    """Every point goes through one block of one pass per iteration (the fused pass's blocks,
    or the log joint of the generic one)."""
    model = make_model(name, synthetic={"n": 50_000, "seed": 0, "separation": 3.0}, K=k)
    session = Session(model, seed=0)
    session.iterate()
    calls = []
    cls = type(model)
    original_joint, original_fused = cls.log_joint, cls.fused_pass

    def fused_pass(self, theta):
        block, stats_of = original_fused(self, theta)
        return (lambda rows, out: calls.append(("block", rows)) or block(rows, out)), stats_of

    monkeypatch.setattr(cls, "fused_pass", fused_pass)
    monkeypatch.setattr(cls, "log_joint",
                        lambda self, theta, rows=slice(None): calls.append(("joint", rows)) or original_joint(self, theta, rows))
    session.iterate()
    blocks = [rows for kind, rows in calls if kind == "block"]
    assert sum(r.stop - r.start for r in blocks) == model.n_points()   # one pass over the data
    # the generic blocks inside the fused pass call log_joint for the same rows, never others
    assert {(r.start, r.stop) for kind, r in calls if kind == "joint"} <= {(r.start, r.stop) for r in blocks}


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


def generic_pass(monkeypatch, model):
    """Make `model`'s class take the generic pass (log_joint, normalise, suff_stats per block)."""
    monkeypatch.setattr(type(model), "fused_pass", lambda self, theta: None)


FUSED_CASES = [
    ("gmm1d", 2, {"synthetic": {"n": 40_000, "seed": 0, "separation": 3.0}}),
    ("gmm1d", 2, {"synthetic": {"n": 40_000, "seed": 1, "separation": 200.0}}),   # far apart: |d| huge
    ("gmm1d", 2, {"data": "galaxies"}),
    ("gmm1d", 4, {"data": "galaxies"}),
    ("gmm2d", 3, {"synthetic": {"n": 40_000, "seed": 0, "separation": 3.0}}),
    ("gmm2d", 2, {"data": "faithful"}),
]


@pytest.mark.parametrize("name, k, data", FUSED_CASES)
def test_the_fused_pass_gives_the_generic_passes_numbers(monkeypatch, name, k, data):
    """An EM run through the fused pass and through the generic pass: every state's θ, log p,
    F and KL agree to 1e-12 (the two passes differ only in rounding)."""
    runs = []
    for fused in (True, False):
        model = make_model(name, K=k, **data)
        if not fused:
            generic_pass(monkeypatch, model)
        session = Session(model, seed=2)
        for _ in range(4):
            session.iterate()
        runs.append(session.history)
        monkeypatch.undo()
    for a, b in zip(*runs):
        for key in a.theta:
            np.testing.assert_allclose(a.theta[key], b.theta[key], rtol=1e-12, atol=1e-12 * np.abs(b.theta[key]).max())
        assert a.loglik == pytest.approx(b.loglik, rel=1e-12)
        assert a.F == pytest.approx(b.F, rel=1e-12)
        assert a.kl == pytest.approx(b.kl, rel=1e-9, abs=1e-12 * abs(b.loglik))


@pytest.mark.parametrize("name, k, data", FUSED_CASES)
def test_the_fused_pass_matches_the_plain_formulas(name, k, data):
    """log p, H(q*), q* and the statistics of one fused pass against scipy's logsumexp, xlogy
    and the statistics' definitions, from the model's log joint."""
    from scipy.special import logsumexp, xlogy
    model = make_model(name, K=k, **data)
    theta = Session(model, seed=5).iterate().theta
    done = model._evaluate(theta)
    joint = model.log_joint(theta)
    norm = logsumexp(joint, axis=0)
    q = np.exp(joint - norm)
    assert done.loglik == pytest.approx(norm.sum(), rel=1e-12)
    assert done.entropy == pytest.approx(-xlogy(q, q).sum(), rel=1e-10)
    np.testing.assert_allclose(done.posterior, q, rtol=1e-11, atol=1e-300)
    centred = model.data - model.center
    np.testing.assert_allclose(done.stats["count"], q.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(done.stats["s1"], q @ centred, rtol=1e-12, atol=1e-9)


def test_a_point_700_nats_from_the_first_class_takes_the_generic_block():
    """e^{−d} overflows past d = −709: a block with such a point is normalised the generic way,
    so q stays finite and sums to 1 (the fused formulas would give 0 · ∞)."""
    from explorer.models.gmm1d import GMM1D
    model = GMM1D(np.r_[np.linspace(-1, 1, 50), 10.0, 40.0], K=2)
    theta = model.theta({"weights": np.array([0.5, 0.5]), "means": np.array([0.0, 40.0]),
                         "variances": np.array([1.0, 1.0])})
    done = model._evaluate(theta)
    assert np.isfinite(done.posterior).all()
    np.testing.assert_allclose(done.posterior.sum(axis=0), 1.0, rtol=1e-15)
    assert done.posterior[1, -1] == 1.0 and done.posterior[0, -1] < 1e-300


def test_an_empty_component_takes_the_generic_pass():
    model = make_model("gmm1d", data="galaxies", K=2)
    theta = model.theta({"weights": np.array([1.0, 0.0]), "means": np.array([20.0, 25.0]),
                         "variances": np.array([20.0, 4.0])})
    done = model._evaluate(theta)
    assert np.all(done.posterior[1] == 0.0) and np.all(done.posterior[0] == 1.0)
    assert done.stats["count"][1] == 0.0 and np.isfinite(done.loglik) and done.entropy == 0.0


@pytest.mark.parametrize("name", ["gmm1d", "gmm2d"])
@pytest.mark.parametrize("rows", [slice(None), slice(3, 40_000), np.array([5, 2, 39_999, 17, 17]), slice(1, None, 3)])
def test_the_statistics_of_any_rows_are_their_definitions(name, rows):
    """suff_stats of q for a block of rows (a slice, an index array as random incremental blocks
    use, a strided slice), made a piece at a time, against N_k, Σ q e, Σ q e eᵀ written out."""
    model = make_model(name, synthetic={"n": 40_000, "seed": 3, "separation": 3.0}, K=3)
    e = (model.data - model.center).reshape(model.n_points(), -1)[rows]
    q = np.random.default_rng(0).dirichlet(np.ones(3), size=len(e)).T
    stats = model.suff_stats(q, rows)
    np.testing.assert_allclose(stats["count"], q.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(np.reshape(stats["s1"], (3, -1)), q @ e, rtol=1e-12)
    second = np.einsum("kn,na,nb->kab", q, e, e)
    np.testing.assert_allclose(np.reshape(stats["s2"], second.shape), second, rtol=1e-12)


def test_the_entropy_keeps_each_blas_dot_on_this_thread(monkeypatch):
    # a dot past SERIAL_DOT elements woke OpenBLAS's threads, which then spun for ~0.1 s beside
    # the pass: at N = 10⁶ the first EM iterations after a start took 12 ms instead of 8.5
    import explorer.core.latent_class as latent_class
    from explorer.core.latent_class import SERIAL_DOT
    model = make_model("gmm1d")
    rng = np.random.default_rng(0)
    q = rng.dirichlet([1.0, 1.0], size=100_000).T.copy()
    lengths, real = [], np.vdot
    monkeypatch.setattr(latent_class.np, "vdot", lambda a, b: lengths.append(np.size(a)) or real(a, b))
    entropy = model.entropy(q)
    monkeypatch.undo()
    assert lengths and max(lengths) <= SERIAL_DOT
    from scipy.special import xlogy
    assert entropy == pytest.approx(-xlogy(q, q).sum(), rel=1e-13)
