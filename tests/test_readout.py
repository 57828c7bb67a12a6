"""The Readout of a state (core/readout.py) against numbers computed here by other means, and
the same numbers on the app's text, the standalone page and the CLI."""
import html
import json
import re

import numpy as np
import pytest
from scipy.special import gammaln, logsumexp, xlogy

from explorer import Session, make_model
from explorer.cli import main
from explorer.core.compare import compare_with_exact
from explorer.core.readout import readout, readout_of, rounding

CASES = [("linkage", "exact"), ("gmm1d", "exact"), ("gmm1d", "hard"), ("two-source", "mean-field"),
         ("coins", "hard"), ("hmm", "mean-field"), ("factor-analysis", "exact")]


def gmm1d_by_hand(x, theta, q):
    """log p and F = E_q log p(X, Z | θ) + H(q) of a 1-d Gaussian mixture, written out."""
    w, mu, var = (np.asarray(theta[k], float) for k in ("weights", "means", "variances"))
    joint = np.log(w)[:, None] - 0.5 * np.log(2 * np.pi * var)[:, None] - 0.5 * (x[None] - mu[:, None]) ** 2 / var[:, None]
    return float(logsumexp(joint, axis=0).sum()), float((q * joint).sum() - xlogy(q, q).sum())


def linkage_by_hand(y, theta, pi):
    """log p and F of the genetic linkage model with q = π per cell-1 animal (DLR 1977, §1)."""
    c = gammaln(y.sum() + 1) - gammaln(y + 1).sum()
    rest = (y[1] + y[2]) * np.log((1 - theta) / 4) + y[3] * np.log(theta / 4)
    logp = c + y[0] * np.log(0.5 + theta / 4) + rest
    ecll = c + y[0] * (pi * np.log(theta / 4) + (1 - pi) * np.log(0.5)) + rest
    entropy = -y[0] * (xlogy(pi, pi) + xlogy(1 - pi, 1 - pi))
    return float(logp), float(ecll + entropy)


@pytest.mark.parametrize("name, family", CASES)
def test_a_readouts_numbers_are_the_models(name, family):
    model = make_model(name)
    session = Session(model, family=family, seed=2)
    for step in range(9):
        previous = session.current
        session.step()
        r = readout(session)
        s = session.current
        assert r.loglik == pytest.approx(float(model.loglik(s.theta)), rel=1e-12, abs=1e-9)
        if name == "gmm1d":
            logp, F = gmm1d_by_hand(np.asarray(model.data, float), s.theta, np.asarray(s.q))
        elif name == "linkage":
            logp, F = linkage_by_hand(np.asarray(model.data, float), float(s.theta["theta"]), float(np.ravel(s.q)[0]))
        else:                        # E_q log p(X, Z | θ) + H(q) from the model's own two methods
            logp, F = r.loglik, model.expected_complete_loglik(s.theta, s.q) + model.entropy(s.q)
        assert r.loglik == pytest.approx(logp, rel=1e-10)
        assert r.F == pytest.approx(F, rel=1e-10, abs=1e-8)
        assert r.kl >= 0
        assert abs(r.kl - (r.loglik - r.F)) <= rounding(r.loglik, r.F)
        assert r.warnings == s.warnings and r.kind == s.kind and r.index == s.index
        assert r.step is not None and r.step.kind == s.kind
        assert (r.step.previous_loglik, r.step.previous_F) == (previous.loglik, previous.F)
        change = max(float(np.max(np.abs(np.asarray(s.theta[k], float) - np.asarray(previous.theta[k], float))
                                  / (1 + np.abs(np.asarray(previous.theta[k], float))))) for k in s.theta)
        assert r.step.theta_change == pytest.approx(change, abs=1e-15)
        assert set(r.step.theta_delta) == {k for k in s.theta if not np.array_equal(s.theta[k], previous.theta[k])}
        assert (step < 3) <= (r.rate is None)          # no rate is claimed in the first iterations
    assert readout_of(session.history[0]).step is None     # the start: no step


def linkage_em_map(theta: float, y=np.array([125.0, 18, 20, 34])) -> float:
    pi = (theta / 4) / (0.5 + theta / 4)
    return (y[0] * pi + y[3]) / (y[0] * pi + y[1] + y[2] + y[3])


def test_the_rate_is_the_em_maps_slope_by_finite_differences():
    """Once settled, the readout's rate is |M′(θ̂)| of the EM map M, here by central differences
    of the map written out (DLR 1977's 0.1328), and for gmm1d the ratio of successive θ changes
    of the EM map iterated here from the readout's θ."""
    session = Session(make_model("linkage"), {"theta": 0.3})
    for _ in range(7):
        session.iterate()
    r = readout(session)
    theta = float(r.theta["theta"])
    h = 1e-6
    slope = (linkage_em_map(theta + h) - linkage_em_map(theta - h)) / (2 * h)
    assert r.rate == pytest.approx(abs(slope), rel=1e-3)
    assert r.rate == pytest.approx(0.1328, abs=1e-4)

    model = make_model("gmm1d")
    session = Session(model, seed=0)
    for _ in range(60):
        session.iterate()
    r = readout(session)
    assert r.rate is not None
    thetas = [r.theta]
    for _ in range(3):                      # M(E(θ)) by the model's posterior and maximize
        thetas.append(model.maximize(model.posterior(thetas[-1]), thetas[-1], frozenset()))
    vec = [np.concatenate([np.ravel(t[k]) for k in ("weights", "means", "variances")]) for t in thetas]
    ratio = np.linalg.norm(vec[3] - vec[2]) / np.linalg.norm(vec[2] - vec[1])
    assert r.rate == pytest.approx(ratio, rel=0.02)


def test_the_gap_to_exact_is_known_with_a_comparison():
    model = make_model("two-source")
    comparison = compare_with_exact(model, "mean-field")
    r = readout(comparison.constrained, comparison)
    assert r.gap_to_exact == pytest.approx(comparison.exact.current.loglik - comparison.constrained.current.loglik)
    assert r.gap_to_exact > 0                              # the mean-field fixed point lies below the MLE
    assert readout(comparison.constrained).gap_to_exact is None


def table_cells(page: str) -> dict:
    return dict(re.findall(r"<tr><td>([^<]+)</td><td class='num'>([^<]+)</td>", page))


def test_the_app_the_standalone_page_and_the_cli_show_the_same_numbers(capsys):
    from explorer.app import ExplorerState
    from explorer.app.readout_view import readout_html
    from explorer.standalone import standalone_html
    assert main(["trace", "--model", "gmm1d", "--iterations", "2", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    state = ExplorerState(model_name="gmm1d")
    state.em_iteration()
    state.em_iteration()
    assert state.session.current.loglik == cli["readout"]["loglik"]      # the same state
    shown = cli["readout"]["shown"]
    assert float(shown["kl"]) > 0
    expected = {"log p(X|θ)": shown["loglik"], "F(θ, q)": shown["F"], "KL(q ‖ p(Z|X,θ))": shown["kl"]}
    assert table_cells(readout_html(state)) == expected
    page = standalone_html(state.session, grid=8)    # the numbers sit in the page's JSON, escaped twice
    page = html.unescape(re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), page))
    tables = re.findall(r"<table class='numbers'>.*?</table>", page)
    assert len(tables) >= 5 and expected in [table_cells(t) for t in tables]     # 5 states recorded, this one among them
    assert main(["trace", "--model", "gmm1d", "--iterations", "2"]) == 0
    assert f"log p = {shown['loglik']}, F = {shown['F']}, KL = {shown['kl']}" in capsys.readouterr().out


def test_the_numbers_panel_shows_the_gap_to_exact_em_once_compared():
    """The panel writes the one Readout, so the comparison's gap reaches it: log p of exact
    EM's fixed point minus log p now, as the comparison computed it."""
    from explorer.app import ExplorerState
    from explorer.app.readout_view import readout_html
    from explorer.shown import fmt
    state = ExplorerState("two-source", family="mean-field")
    state.run_to_convergence()
    assert "log p(θ̂ of exact EM)" not in readout_html(state)
    state.analyses.compare_with_exact()
    gap = state.analyses.comparison.exact.current.loglik - state.session.current.loglik
    assert f"log p(θ̂ of exact EM) − log p now = {fmt(gap)}" in readout_html(state)
