"""Presets: the canonical figures and tables of the EM literature, one click away.

A preset sets up a screen (in the words of the app's URL, as a lesson step does) and, where the
source has a table, computes ours beside the published numbers with the difference:

    dlr-table-1       Dempster, Laird & Rubin (1977) Table 1: linkage from θ⁰ = 0.5, θ⁽ᵖ⁾ and the rate
    do-batzoglou      Do & Batzoglou (2008) Figure 1: two coins, the first iteration and θ after 10
    bishop-9-14       Bishop (2006) Figure 9.14: the bound touching log p after an E step
    faithful-1d       Old Faithful's waiting times, a two-component gmm1d fitted by EM
    faithful-2d       Old Faithful, both columns, gmm2d with K = 2 (against scikit-learn's fit)
    mean-field-bias   two-source with mean y² = 3: exact s = 1 against the mean-field fixed point

The published numbers are those of ../shared/REFERENCES.md; `rows(name, session)` recomputes
ours from the session the preset set up, so the table is live, not copied.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .core.errors import ExplorerError
from .core.readout import difference_shown, kl_shown
from .core.session import Session
from .screen import authored_screen

DLR_TABLE_1 = (0.608247423, 0.624321051, 0.626488879, 0.626777323, 0.626815632, 0.626820719,
               0.626821395, 0.626821484)
DLR_MLE = (15 + np.sqrt(53809)) / 394
DLR_RATE = 0.1328


@dataclass(frozen=True)
class Row:
    quantity: str
    ours: float
    published: float
    source: str = ""

    @property
    def difference(self) -> float:
        return self.ours - self.published


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    screen: dict
    table: Callable | None = None      # (session) → list[Row]
    caption: str = ""                  # what the screen shows, in a sentence or two

    def __post_init__(self):
        object.__setattr__(self, "screen", authored_screen(self.screen, f"preset {self.name}"))


def _dlr(session) -> list[Row]:
    run = Session(session.model, {"theta": 0.5})
    thetas = [float(run.iterate().theta["theta"]) for _ in range(8)]
    rows = [Row(f"θ⁽{p}⁾", t, ref, "DLR 1977, Table 1") for p, (t, ref) in enumerate(zip(thetas, DLR_TABLE_1), 1)]
    rate = (thetas[7] - DLR_MLE) / (thetas[6] - DLR_MLE)
    rows.append(Row("(θ⁽⁸⁾ − θ̂)/(θ⁽⁷⁾ − θ̂)", rate, DLR_RATE, "DLR 1977, §3: fraction of missing information"))
    rows.append(Row("θ̂ (MLE)", float(run.run(tol=1e-14).converged and run.current.theta["theta"]), DLR_MLE,
                    "root of 197θ² − 15θ − 68"))
    return rows


def _coins(session) -> list[Row]:
    model = session.model
    run = Session(model, {"theta_A": 0.6, "theta_B": 0.5})
    first = run.e_step()
    q_a = np.asarray(first.q)[0]
    counts = model.expected_counts(first.q)
    theta1 = run.m_step().theta
    for _ in range(9):
        run.iterate()
    theta10 = run.current.theta
    published_q = (0.45, 0.80, 0.73, 0.35, 0.65)
    rows = [Row(f"q(coin A) for set {i + 1}", float(q), ref, "Figure 1, E step 1 (2 decimals)")
            for i, (q, ref) in enumerate(zip(q_a, published_q))]
    rows += [Row("expected heads of A", counts["A"][0], 21.3, "Figure 1 (1 decimal)"),
             Row("expected tails of A", counts["A"][1], 8.6, "Figure 1 (1 decimal)"),
             Row("expected heads of B", counts["B"][0], 11.7, "Figure 1 (1 decimal)"),
             Row("expected tails of B", counts["B"][1], 8.4, "Figure 1 (1 decimal)"),
             Row("θ_A after 1 iteration", float(theta1["theta_A"]), 0.71, "Figure 1 (2 decimals)"),
             Row("θ_B after 1 iteration", float(theta1["theta_B"]), 0.58, "Figure 1 (2 decimals)"),
             Row("θ_A after 10 iterations", float(theta10["theta_A"]), 0.80, "Figure 1 (2 decimals)"),
             Row("θ_B after 10 iterations", float(theta10["theta_B"]), 0.52, "Figure 1 (2 decimals)")]
    return rows


def _bishop(session) -> list[Row]:
    """Figure 9.14 from θ_old = 0.4 on the linkage counts: the E step's bound touches log p, and
    the M step's maximiser of the bound is the closed form of the expected complete-data MLE."""
    model = session.model
    run = Session(model, {"theta": 0.4})
    after_e = run.e_step()
    after_m = run.m_step()
    x1, x2, x3, x4 = (float(v) for v in np.asarray(model.data).ravel()[:4])
    x12 = x1 * 0.1 / (0.5 + 0.1)                   # E[cell 1's θ/4 part] at θ = 0.4: x1 (θ/4)/(½ + θ/4)
    return [Row("KL(q ‖ p) after the E step at θ_old = 0.4", kl_shown(after_e.loglik, after_e.F), 0.0,
                "Fig. 9.14: the bound touches log p at θ_old"),
            Row("F − log p at θ_old after the E step", difference_shown(after_e.F, after_e.loglik), 0.0, "the same, as F = log p"),
            Row("θ_new, the maximum of the bound", float(after_m.theta["theta"]), (x12 + x4) / (x12 + x2 + x3 + x4),
                "closed form (x₁₂ + x₄)/(x₁₂ + x₂ + x₃ + x₄)"),
            Row("log p(θ_new) − log p(θ_old) ≥ F gain: the excess", (after_m.loglik - after_e.loglik)
                - (after_m.F - after_e.F), float(after_m.kl), "Fig. 9.14: the new gap is KL(q_old ‖ p(θ_new))")]


def _faithful_1d(session) -> list[Row]:
    """At a fixed point of EM with free weights, means and variances, the mixture's mean and
    variance are the data's (the M step matches the first two moments)."""
    run = Session(session.model, {"means": [50.0, 80.0]})
    run.run(tol=1e-12, max_iterations=5000)
    theta = run.current.theta
    w, mu, var = (np.asarray(theta[k], float) for k in ("weights", "means", "variances"))
    x = np.asarray(session.model.data, float).ravel()
    mean = float(w @ mu)
    return [Row("mixture mean Σ w_k μ_k at θ̂", mean, 70.897059, "mean waiting time, REFERENCES.md"),
            Row("mixture variance Σ w_k (σ²_k + μ²_k) − mean²", float(w @ (var + mu ** 2) - mean ** 2),
                float(x.var()), "the data's variance (ddof = 0)"),
            Row("log p(X | θ̂) from μ⁰ = (50, 80)", run.current.loglik, -1034.0017498,
                "this tool's restarts (19 of 20 starts); no published 1-D fit")]


def _faithful_2d(session) -> list[Row]:
    run = Session(session.model, seed=0)
    run.run(tol=1e-12, max_iterations=5000)
    theta, _ = session.model.canonical(run.current.theta)
    return [Row("log p(X | θ̂)", run.current.loglik, -1130.26396, "scikit-learn, REFERENCES.md"),
            Row("weight of the short-eruption component", float(theta["weights"][0]), 0.35587, "scikit-learn"),
            Row("its mean eruption (min)", float(theta["means"][0, 0]), 2.03639, "scikit-learn"),
            Row("its mean waiting (min)", float(theta["means"][0, 1]), 54.47852, "scikit-learn"),
            Row("the other's mean eruption", float(theta["means"][1, 0]), 4.28966, "scikit-learn"),
            Row("the other's mean waiting", float(theta["means"][1, 1]), 79.96812, "scikit-learn")]


def _mean_field(session) -> list[Row]:
    model = session.model
    exact = Session(model, {"noise_var": 2.0})
    exact.run(tol=1e-13, max_iterations=20_000)
    variational = Session(model, {"noise_var": 2.0}, family="mean-field")
    variational.run(tol=1e-13, max_iterations=20_000)
    s_mf = model.mean_field_fixed_point()
    return [Row("mean y²", float(np.mean(model.data ** 2)), 3.0, "the data set m3"),
            Row("exact EM: ŝ", float(exact.current.theta["noise_var"]), model.ml_estimate(), "closed form m − 2"),
            Row("mean-field EM: ŝ", float(variational.current.theta["noise_var"]), s_mf,
                "root of s³ + (3 − m)s² − ms − 4"),
            Row("KL gap per point at the mean-field ŝ", variational.current.kl / len(model.data),
                model.mean_field_gap_per_point(s_mf), "½ log[(1+s)²/(s(s+2))]")]


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("dlr-table-1", "DLR 1977, Table 1: genetic linkage from θ⁰ = 0.5",
           {"model": "linkage", "theta0": '{"theta": 0.5}', "coord": "theta", "steps": "EM8"}, _dlr,
           "EM from θ = 0.5 on the 197 animals: eight iterations, as in the paper's table; the rate "
           "(θ⁽⁸⁾ − θ̂)/(θ⁽⁷⁾ − θ̂) is the fraction of missing information."),
    Preset("do-batzoglou", "Do & Batzoglou 2008, Figure 1: two coins",
           {"model": "coins", "theta0": '{"theta_A": 0.6, "theta_B": 0.5}', "coord": "theta_A", "steps": "EM"},
           _coins, "Five sets of ten tosses, which coin unknown: the first E step's q(coin A) per set, the "
           "expected counts, and θ after 1 and 10 iterations, beside the figure's rounded numbers."),
    Preset("bishop-9-14", "Bishop 2006, Figure 9.14: the bound after an E step, its maximum after M",
           {"model": "linkage", "theta0": '{"theta": 0.4}', "coord": "theta", "steps": "E"}, _bishop,
           "After the E step at θ_old = 0.4 the bound F(θ, q) (dashed, in the bound plot) touches log p at "
           "θ_old; its maximum, the triangle, is where the M step goes. Take the M step: log p rises by "
           "more than F, by the new gap."),
    Preset("faithful-1d", "Old Faithful's waiting times, gmm1d with K = 2",
           {"model": "gmm1d", "data": "faithful-waiting", "K": "2", "coord": "means[0]", "steps": "EM40"},
           _faithful_1d, "Two Gaussians fitted by EM to the 272 waiting times: short and long waits. The screen "
           "shows forty iterations, still climbing in the fifth digit; the table's run goes on to the fixed point, "
           "where the mixture has the data's mean and variance, which it checks."),
    Preset("faithful-2d", "Old Faithful, both columns, gmm2d with K = 2",
           {"model": "gmm2d", "data": "faithful", "K": "2", "steps": "EM40"}, _faithful_2d,
           "Both columns, two full-covariance Gaussians; our fit run to convergence beside scikit-learn's."),
    Preset("mean-field-bias", "The mean-field bias: two-source with mean y² = 3",
           {"model": "two-source", "data": "m3", "family": "mean-field", "theta0": '{"noise_var": 2.0}',
            "steps": "EM30"}, _mean_field,
           "Mean-field EM cannot close the KL gap, and its fixed point ŝ moves away from the MLE: "
           "the cubic's root beside ours."),
)}


def rows(name: str, session) -> list[Row]:
    """The preset's table for the model of `session` (empty for a figure without one)."""
    if name not in PRESETS:
        raise ExplorerError(f"no preset {name!r} (presets: {', '.join(PRESETS)})")
    table = PRESETS[name].table
    return [] if table is None else table(session)


__all__ = ["PRESETS", "Preset", "Row", "rows"]
