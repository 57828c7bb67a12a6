"""Published numbers (../shared/REFERENCES.md) reproduced by the library."""
import numpy as np
import pytest

from explorer import Session, make_model
from explorer.core.errors import ExplorerError

from .helpers import enumerate_paths

DLR_TABLE_1 = [0.608247423, 0.624321051, 0.626488879, 0.626777323, 0.626815632,
               0.626820719, 0.626821395, 0.626821484]
DLR_MLE = (15 + np.sqrt(53809)) / 394


def test_linkage_reproduces_dlr_table_1():
    session = Session(make_model("linkage"), {"theta": 0.5})
    iterates = [float(session.iterate().theta["theta"]) for _ in DLR_TABLE_1]
    np.testing.assert_allclose(iterates, DLR_TABLE_1, rtol=0, atol=2e-9)
    assert iterates[0] == pytest.approx(59 / 97, abs=1e-15)


def test_linkage_converges_to_the_mle_at_the_missing_information_rate():
    session = Session(make_model("linkage"), {"theta": 0.5})
    result = session.run(tol=1e-15, max_iterations=100)
    assert result.converged
    # log p is flat at the maximum: a 1e-15 change in log p leaves θ within ~1e-11 of θ̂.
    assert float(session.current.theta["theta"]) == pytest.approx(DLR_MLE, abs=1e-10)
    assert 197 * DLR_MLE**2 - 15 * DLR_MLE - 68 == pytest.approx(0, abs=1e-10)
    thetas = [float(s.theta["theta"]) for s in session.states if s.kind == "M"]
    ratios = [(b - DLR_MLE) / (a - DLR_MLE) for a, b in zip(thetas[2:6], thetas[3:7])]
    np.testing.assert_allclose(ratios, 0.1328, atol=5e-4)


def test_linkage_log_likelihood_is_a_multinomial_log_probability():
    from scipy.stats import multinomial
    model = make_model("linkage")
    t = 0.3
    expected = multinomial.logpmf([125, 18, 20, 34], 197, [0.5 + t / 4, (1 - t) / 4, (1 - t) / 4, t / 4])
    assert model.loglik(model.theta({"theta": t})) == pytest.approx(expected, rel=1e-12)


def test_coins_first_iteration_matches_do_batzoglou():
    model = make_model("coins")
    session = Session(model, {"theta_A": 0.6, "theta_B": 0.5})
    q = session.e_step().q
    np.testing.assert_allclose(q[0], [0.45, 0.80, 0.73, 0.35, 0.65], atol=0.005)
    counts = model.expected_counts(q)
    np.testing.assert_allclose(counts["A"], [21.3, 8.6], atol=0.05)
    np.testing.assert_allclose(counts["B"], [11.7, 8.4], atol=0.05)
    theta = session.m_step().theta
    assert float(theta["theta_A"]) == pytest.approx(0.71, abs=0.005)
    assert float(theta["theta_B"]) == pytest.approx(0.58, abs=0.005)
    assert float(theta["weight_A"]) == 0.5  # frozen by default, as in the paper


def test_coins_after_ten_iterations():
    session = Session(make_model("coins"), {"theta_A": 0.6, "theta_B": 0.5})
    for _ in range(10):
        theta = session.iterate().theta
    assert float(theta["theta_A"]) == pytest.approx(0.80, abs=0.005)
    assert float(theta["theta_B"]) == pytest.approx(0.52, abs=0.005)


def test_coins_complete_data_estimate_with_observed_labels():
    """With the labels known (B, A, A, B, A), q is a point mass and the M step gives 24/30, 9/20."""
    model = make_model("coins")
    labels_a = np.array([0, 1, 1, 0, 1], dtype=float)
    theta = model.maximize(np.array([labels_a, 1 - labels_a]), model.start_theta(0), frozenset({"weight_A"}))
    assert float(theta["theta_A"]) == pytest.approx(24 / 30, abs=1e-15)
    assert float(theta["theta_B"]) == pytest.approx(9 / 20, abs=1e-15)


def test_old_faithful_two_component_fit():
    model = make_model("gmm2d", data="faithful")
    np.testing.assert_allclose(model.data.mean(axis=0), [3.487783, 70.897059], atol=1e-6)
    session = Session(model, seed=0)
    assert session.run(tol=1e-10, max_iterations=2000).converged
    theta = session.current.theta
    assert session.current.loglik == pytest.approx(-1130.26396, abs=1e-5)
    order = np.argsort(theta["weights"])
    np.testing.assert_allclose(theta["weights"][order], [0.35587, 0.64413], atol=1e-5)
    np.testing.assert_allclose(theta["means"][order], [[2.03639, 54.47852], [4.28966, 79.96812]], atol=1e-5)


def test_old_faithful_standardised_fit():
    from explorer.models.gmm2d import GMM2D
    raw = make_model("gmm2d", data="faithful").data
    z = (raw - raw.mean(axis=0)) / raw.std(axis=0)   # population standard deviation (ddof = 0)
    model = GMM2D(z)
    session = Session(model, seed=0)
    assert session.run(tol=1e-12, max_iterations=2000).converged
    assert session.current.loglik / len(z) == pytest.approx(-1.4171349105, abs=1e-9)


def test_censored_gehan_6mp_mle_is_events_over_total_time():
    """Gehan's 6-MP arm: 21 patients, 9 relapses seen, 359 weeks in all (Gehan 1965)."""
    model = make_model("censored")
    assert len(model.data) == 21 and model.events == 9 and model.total_time == 359
    session = Session(model, seed=0)
    result = session.run(tol=1e-13, max_iterations=500)
    assert result.converged
    assert float(session.current.theta["rate"]) == pytest.approx(9 / 359, rel=1e-9)
    assert session.current.loglik == pytest.approx(9 * np.log(9 / 359) - 9, rel=1e-13)


def test_censored_em_converges_at_the_fraction_censored():
    """dλ'/dλ = m/n at the MLE: the observed rate and the EM map's rate both equal 12/21."""
    from explorer.core.convergence import em_map_rate, rates
    model = make_model("censored")
    session = Session(model, {"rate": 0.2})
    for _ in range(30):
        session.iterate()
    observed = [r for r in rates(session.states) if r is not None]
    assert observed[-1] == pytest.approx(12 / 21, abs=1e-4)
    assert em_map_rate(model, {"rate": 9 / 359}, frozenset(), session.family_object) == pytest.approx(12 / 21, rel=1e-6)
    synthetic = make_model("censored", synthetic={"n": 4000, "seed": 1, "separation": 2.0})
    fraction = 1 - synthetic.events / len(synthetic.data)
    assert em_map_rate(synthetic, {"rate": synthetic.events / synthetic.total_time}, frozenset(),
                       session.family_object) == pytest.approx(fraction, rel=1e-6)


@pytest.mark.parametrize("rows, message", [
    ([[1.0, 1.0], [2.0, 0.5]], r"row 2: observed must be 1 \(event\) or 0 \(censored\)"),
    ([[1.0, 1.0], [-2.0, 0.0]], "row 2: the time must be a finite number ≥ 0"),
    ([[1.0, 0.0], [2.0, 0.0]], "no observed event"),
    ([[1.0, 1.0]], "at least 2 units"),
])
def test_censored_bad_data_names_the_row_and_rule(rows, message):
    with pytest.raises(ExplorerError, match=message):
        make_model("censored").with_data(np.array(rows))


def t_mle(x, df=None):
    """(μ, σ, ν, log p) maximising Σ log t_ν(x_i; μ, σ) directly: scipy's BFGS on the t
    log-likelihood, then scipy's root finder on its score equations (ν held when given)."""
    from scipy import optimize, special, stats

    def negative(p):
        nu = df if df is not None else np.exp(p[2])
        return -stats.t.logpdf(x, nu, p[0], np.exp(p[1])).sum()

    def score(p):
        mu, sigma, nu = p[0], p[1], (df if df is not None else p[2])
        d, n = x - mu, len(x)
        delta = (d / sigma) ** 2
        out = [np.sum((nu + 1) * d / (nu * sigma ** 2 + d * d)),
               -n / sigma + np.sum((nu + 1) * d * d / (sigma * (nu * sigma ** 2 + d * d)))]
        if df is None:
            out.append(n / 2 * (special.digamma((nu + 1) / 2) - special.digamma(nu / 2) - 1 / nu)
                       - 0.5 * np.sum(np.log1p(delta / nu)) + (nu + 1) / 2 * np.sum(delta / (nu * nu + nu * delta)))
        return out
    start = [np.median(x) + 1.0, np.log(np.std(x)), np.log(10.0)][: 2 if df is not None else 3]
    found = optimize.minimize(negative, start, method="BFGS", options={"gtol": 1e-10}).x
    found = [found[0], np.exp(found[1])] + ([np.exp(found[2])] if df is None else [])
    root = optimize.root(score, found, method="hybr", options={"xtol": 1e-14})
    assert np.max(np.abs(score(root.x))) < 1e-9
    mu, sigma = root.x[0], root.x[1]
    nu = df if df is not None else root.x[2]
    return mu, sigma, nu, stats.t.logpdf(x, nu, mu, sigma).sum()


@pytest.mark.parametrize("free_df", [False, True])
def test_student_t_em_fixed_point_is_the_direct_t_mle_on_darwins_maize(free_df):
    model = make_model("student-t")
    assert len(model.data) == 15 and model.data[1] == -8.375
    session = Session(model, seed=0, frozen=set() if free_df else None)
    assert session.run(tol=1e-14, theta_tol=1e-12, max_iterations=5000).converged
    theta = session.current.theta
    mu, sigma, nu, loglik = t_mle(model.data, None if free_df else 4.0)
    assert float(theta["loc"]) == pytest.approx(mu, abs=1e-8)
    assert float(theta["scale"]) == pytest.approx(sigma, rel=1e-8)
    assert float(theta["df"]) == pytest.approx(nu, rel=1e-7)
    assert session.current.loglik == pytest.approx(loglik, rel=1e-12)


def test_student_t_ecm_reaches_em_s_fixed_point_with_df_free():
    """Q separates into μ, σ given μ, and ν, so ECM's cycle of conditional maximisations is the
    M step itself: the Compare schedules table shows the same fixed point for both."""
    from explorer.app import ExplorerState
    state = ExplorerState(model_name="student-t")
    state.set(frozen=[], compared=["em", "ecm"])
    assert state.session.frozen == frozenset()
    state.analyses.compare_schedules(max_passes=2000)
    runs = {run.schedule: run for run in state.analyses.schedule_runs}
    assert runs["em"].converged and runs["ecm"].converged
    em, ecm = runs["em"].session.current.theta, runs["ecm"].session.current.theta
    assert float(ecm["df"]) == pytest.approx(float(em["df"]), rel=1e-6)


@pytest.mark.parametrize("values, message", [([1.0, np.nan, 2.0], "row 2 is not a finite number"),
                                             ([1.0, 2.0], "at least 3 points"),
                                             ([2.0, 2.0, 2.0], "single distinct value")])
def test_student_t_bad_data_names_the_row_and_rule(values, message):
    with pytest.raises(ExplorerError, match=message):
        make_model("student-t").with_data(np.array(values))


def mvn_observed_mle(x):
    """(μ, Σ) maximising Σ_i log N(x_i,o | μ_o, Σ_oo) directly (scipy's BFGS over μ and the
    Cholesky factor of Σ, log of its diagonal), not by EM."""
    from scipy import optimize, stats
    n, d = x.shape
    rows, cols = np.tril_indices(d)

    def unpack(p):
        chol = np.zeros((d, d))
        chol[rows, cols] = p[d:]
        chol[np.diag_indices(d)] = np.exp(np.diag(chol))
        return p[:d], chol @ chol.T

    def negative(p):
        mu, sigma = unpack(p)
        total = 0.0
        for row in x:
            o = ~np.isnan(row)
            total += stats.multivariate_normal.logpdf(row[o], mu[o], sigma[np.ix_(o, o)])
        return -total
    scale = np.nanstd(x, axis=0)
    start_chol = np.diag(np.log(scale))[rows, cols]
    start = np.concatenate([np.nanmean(x, axis=0), start_chol])
    found = optimize.minimize(negative, start, method="BFGS", options={"gtol": 1e-9, "maxiter": 20_000})
    return (*unpack(found.x), -found.fun)


def test_mvn_missing_em_fixed_point_is_the_direct_observed_data_mle():
    model = make_model("mvn-missing", synthetic={"n": 80, "seed": 2, "separation": 1.5})
    assert np.isnan(model.data).any()
    session = Session(model, seed=0)
    assert session.run(tol=1e-12, theta_tol=1e-11, max_iterations=5000).converged
    mu, sigma, loglik = mvn_observed_mle(model.data)
    theta = session.current.theta
    np.testing.assert_allclose(theta["mean"], mu, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(theta["covariance"], sigma, rtol=1e-6, atol=1e-6)
    assert session.current.loglik == pytest.approx(loglik, rel=1e-10)


def test_mvn_missing_airquality_has_its_published_missing_cells():
    model = make_model("mvn-missing")
    assert model.data.shape == (153, 4) and model.column_names == ["Ozone", "Solar.R", "Wind", "Temp"]
    assert list((~model.observed).sum(axis=0)) == [37, 7, 0, 0]
    session = Session(model, seed=0)
    session.run(tol=1e-10, max_iterations=2000)
    complete = model.data[model.observed.all(axis=1)]
    # EM's means differ from the complete-case means where the missing values are not MCAR
    assert abs(float(session.current.theta["mean"][2]) - float(np.nanmean(model.data[:, 2]))) < 1e-9
    assert float(session.current.theta["mean"][0]) != pytest.approx(complete[:, 0].mean(), abs=1e-3)


@pytest.mark.parametrize("rows, message", [
    ([[1.0, 2.0], [np.nan, np.nan], [3.0, 1.0], [2.0, 5.0]], "row 2 has no observed value"),
    ([[1.0, np.inf], [2.0, 1.0], [3.0, 1.0]], "row 1, column 2 is infinite"),
    ([[1.0, np.nan], [2.0, np.nan], [3.0, 1.0]], "column 2 has fewer than 2 observed values"),
])
def test_mvn_missing_bad_data_names_the_row_and_rule(rows, message):
    with pytest.raises(ExplorerError, match=message):
        make_model("mvn-missing").with_data(np.array(rows))


def test_empty_cells_are_read_only_for_models_that_accept_them(tmp_path):
    path = tmp_path / "holes.csv"
    path.write_text("a,b\n1,2\n,3\n4,\n5,6\n7,9\n")
    model = make_model("mvn-missing", data_file=str(path))
    assert model.column_names == ["a", "b"] and int(np.isnan(model.data).sum()) == 2
    with pytest.raises(ExplorerError, match="row 3, column 'a': '' is not a number"):
        make_model("gmm2d", data_file=str(path))


@pytest.mark.parametrize("k, t", [(2, 2), (2, 8), (3, 7), (3, 5)])
def test_hmm_forward_backward_equals_enumerating_every_path(k, t):
    model = make_model("hmm", synthetic={"n": t, "seed": t, "separation": 1.5}, K=k)
    rng = np.random.default_rng(k * 10 + t)
    theta = model.theta({"startprob": rng.dirichlet(np.ones(k)), "transmat": rng.dirichlet(np.ones(k), size=k),
                         "means": rng.normal(size=k) * 2, "variances": np.exp(rng.normal(size=k))})
    loglik, gamma, xi = enumerate_paths(theta["startprob"], theta["transmat"], model.log_emission(theta))
    q = model.posterior(theta)
    assert model.loglik(theta) == pytest.approx(loglik, rel=1e-13)
    np.testing.assert_allclose(q.gamma, gamma, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(q.xi, xi, rtol=1e-10, atol=1e-14)


def test_hmm_matches_hmmlearn_for_20_iterations_on_the_geyser():
    hmmlearn = pytest.importorskip("hmmlearn.hmm")
    model = make_model("hmm")
    assert len(model.data) == 299 and model.data[0] == 80
    start = {"startprob": [0.5, 0.5], "transmat": [[0.7, 0.3], [0.4, 0.6]], "means": [55.0, 80.0],
             "variances": [60.0, 40.0]}
    session = Session(model, start)
    reference = hmmlearn.GaussianHMM(2, covariance_type="diag", min_covar=0.0, startprob_prior=1.0,
                                     transmat_prior=1.0, means_prior=0, means_weight=0, covars_prior=0.0,
                                     covars_weight=1, n_iter=1, tol=-np.inf, init_params="", params="stmc")
    reference.startprob_ = np.array(start["startprob"])
    reference.transmat_ = np.array(start["transmat"])
    reference.means_ = np.array(start["means"])[:, None]
    reference.covars_ = np.array(start["variances"])[:, None]
    x = model.data[:, None]
    for _ in range(20):
        assert session.current.loglik == pytest.approx(reference.score(x), rel=1e-10)
        reference.fit(x)
        theta = session.iterate().theta
        np.testing.assert_allclose(theta["startprob"], reference.startprob_, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(theta["transmat"], reference.transmat_, rtol=1e-8)
        np.testing.assert_allclose(theta["means"], reference.means_[:, 0], rtol=1e-8)
        np.testing.assert_allclose(theta["variances"], reference.covars_[:, 0, 0], rtol=1e-8)


def test_hmm_mean_field_over_time_leaves_a_gap_that_cannot_close():
    model = make_model("hmm")
    session = Session(model, seed=0, family="mean-field")
    session.run(tol=1e-9, max_iterations=2000)
    gap = session.current.kl
    assert gap > 0.5        # the chain's correlations that a factorised q cannot carry
    exact = Session(model, seed=0)
    exact.run(tol=1e-9)
    assert exact.current.loglik > session.current.loglik


@pytest.mark.parametrize("values, message", [([70.0], "at least 2 observations"),
                                             ([70.0, np.nan, 60.0], "row 2 is not a finite number")])
def test_hmm_bad_data_names_the_row_and_rule(values, message):
    with pytest.raises(ExplorerError, match=message):
        make_model("hmm").with_data(np.array(values))
