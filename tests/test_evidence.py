"""Pictures of a failing check: the evidence each failure carries, and its figure."""
import importlib.util
from pathlib import Path

import numpy as np

from explorer.core.checks import check_model, evidence_per_point, per_point_bound, per_point_posterior_gap
from explorer.models import make_model
from explorer.models.gmm1d import GMM1D
from explorer.views.evidence import evidence_figure

ROOT = Path(__file__).resolve().parents[1]


def load_example(file: str, name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def failing(report, words: str):
    return next(c for c in report.checks if words in c.name and not c.passed)


def test_an_m_step_that_is_no_maximiser_is_drawn_along_the_offending_coordinate():
    report = check_model(make_model(load_example("buggy_gmm.py", "BuggyGMM")))
    e = failing(report, "the M step maximises").evidence
    assert e["kind"] == "profile" and e["key"].startswith("variances")
    (t_m, v_m), (t_b, v_b) = e["m_step"], e["better"]
    assert v_b > v_m                                      # the marked value is higher than the M step's
    assert min(e["t"]) < min(t_m, t_b) and max(e["t"]) > max(t_m, t_b)
    assert max(e["value"]) > v_m                          # the curve itself rises past the M step
    closed = failing(report, "closed-form M step").evidence
    assert closed["kind"] == "profile" and closed["better"][1] > closed["m_step"][1]
    assert evidence_figure(e) is not None


class FallingGMM(GMM1D):
    """An M step that overshoots the means: log p falls."""
    name = "falling-gmm"

    def m_step(self, q, theta, frozen=frozenset()):
        new = super().m_step(q, theta, frozen)
        new["means"] = new["means"] + 3.0 * (new["means"] - theta["means"])
        return new


def test_a_fall_of_log_p_is_drawn_on_the_trace_of_its_run():
    report = check_model(make_model(FallingGMM))
    e = failing(report, "log p never decreases").evidence
    i = e["fell_at"]
    assert e["kind"] == "trace" and len(e["loglik"]) == i + 1
    assert e["loglik"][i] < e["loglik"][i - 1]
    assert evidence_figure(e) is not None


class SwappedPosterior(GMM1D):
    """An E step that swaps the two classes for the first ten points."""
    name = "swapped-gmm"

    def posterior(self, theta):
        q = np.array(super().posterior(theta))
        q[:, :10] = q[::-1, :10]
        return q


def test_a_wrong_posterior_lists_the_points_where_it_is_wrong():
    model = make_model(SwappedPosterior)
    report = check_model(model)
    e = failing(report, "F = log p after the E step").evidence
    assert e["kind"] == "per_point"
    worst = {i for i, _ in e["worst"]}
    big = {i + 1 for i, v in enumerate(e["values"]) if v > 1e-6}
    assert big <= set(range(1, 11)) and worst >= big      # only the swapped points differ, all are listed
    theta = model.start_theta(0)
    gap = per_point_posterior_gap(model, theta, model.posterior(theta))
    assert np.all(gap[10:] < 1e-12) and gap[:10].max() > 0
    assert evidence_figure(e) is not None


def test_per_point_shares_of_the_bound_sum_to_f_minus_log_p():
    from explorer.core.objective import evaluate
    model = make_model("gmm1d")
    theta = model.start_theta(1)
    q = model.random_q(np.random.default_rng(0))
    shares = per_point_bound(model, theta, q)
    values = evaluate(model, theta, q)
    assert np.all(shares <= 1e-12) and abs(shares.sum() - (values.F - values.loglik)) < 1e-8
    e = evidence_per_point(shares, "share")
    assert e["worst"][0][1] == shares.min() and len(e["worst"]) == 10


def test_the_pictures_x_tick_labels_leave_room_for_each_other():
    """A profile's coordinate runs over a few thousandths (0.4265 … 0.4285): five 6-character
    labels (about 7 px a character) in the 220 px a 280 px figure keeps beside its y labels
    touched; three leave a gap."""
    from explorer.views.evidence import WIDTH
    for evidence in ({"kind": "profile", "key": "weights[0]", "t": [0.4262, 0.4285], "value": [-593.5, -593.6],
                      "m_step": [0.4273, -593.514], "better": [0.4269, -593.513]},
                     {"kind": "trace", "loglik": [-10.0, -9.0, -9.5], "fell_at": 2},
                     {"kind": "per_point", "label": "gap", "values": [0.1] * 300, "worst": [[1, 0.1]]}):
        ticks = evidence_figure(evidence).xaxis[0].ticker.desired_num_ticks
        assert ticks * (6 * 7 + 8) <= WIDTH - 60     # 6 characters and an 8 px gap each, beside the y labels
