"""Exact EM against variational EM in a constrained family, from the same start.

Both run to convergence; the comparison reports each fixed point θ̂, log p at each, the KL gap
that remains at the variational fixed point, and the bias Δθ = θ̂(Q′) − θ̂(exact).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import theta_to_json
from .session import RunResult, Session


@dataclass(frozen=True)
class Comparison:
    family: str
    exact: Session
    constrained: Session
    runs: tuple[RunResult, RunResult]   # how each run to convergence ended

    @property
    def bias(self) -> dict:
        a, b = self.exact.current.theta, self.constrained.current.theta
        return {k: np.asarray(b[k]) - np.asarray(a[k]) for k in a}

    def to_json(self) -> dict:
        e, c = self.exact.current, self.constrained.current
        return {"family": self.family,
                "exact": {"theta": theta_to_json(e.theta), "loglik": e.loglik,
                          "iterations": self.runs[0].iterations, "converged": self.runs[0].converged},
                "constrained": {"theta": theta_to_json(c.theta), "loglik": c.loglik, "F": c.F,
                                "kl_gap": c.kl, "iterations": self.runs[1].iterations,
                                "converged": self.runs[1].converged},
                "bias": theta_to_json(self.bias),
                "loglik_loss": e.loglik - c.loglik}


def compare_with_exact(model, family: str, theta0=None, frozen=None, seed: int = 0, tol: float = 1e-9,
                       max_iterations: int = 5000) -> Comparison:
    """Run exact EM and variational EM in `family` to convergence from the same θ0.

    The variational run ends on an E step, so that its F and KL are those of the fixed point:
    F(θ̂, q*_θ̂) and the irreducible gap KL = log p(X | θ̂) − F(θ̂, q*_θ̂)."""
    sessions, runs = [], []
    for name in ("exact", family):
        session = Session(model, theta0, family=name, frozen=frozen, seed=seed)
        runs.append(session.run(tol=tol, max_iterations=max_iterations))
        session.e_step()
        sessions.append(session)
    return Comparison(family, sessions[0], sessions[1], tuple(runs))


@dataclass(frozen=True)
class ScheduleRun:
    schedule: str
    session: Session
    converged: bool
    iterations_to_tol: int | None      # iterations until log p is within `reach` of the best
    passes_to_tol: float | None        # passes through the data until then

    def to_json(self) -> dict:
        s = self.session.current
        return {"schedule": self.schedule, "converged": self.converged, "final_loglik": s.loglik,
                "iterations": s.e_steps, "passes": s.passes,
                "iterations_to_tol": self.iterations_to_tol, "passes_to_tol": self.passes_to_tol}


def compare_schedules(model, schedules, theta0=None, frozen=None, seed: int = 0, family: str = "exact",
                      tol: float = 1e-10, reach: float = 1e-6, max_passes: float = 2000.0) -> list[ScheduleRun]:
    """Run each schedule from the same start until log p changes by at most `tol` over a pass
    (or `max_passes` passes), then report the work each needed to come within `reach` of the
    best log p that any of them found (their common fixed point, on a well-posed problem)."""
    sessions, converged = [], []
    for text in schedules:
        session = Session(model, theta0, family=family, frozen=frozen, seed=seed, schedule=text, keep_q=4)
        every = session.schedule_object.iterations_per_pass(session)
        done = stalled = False
        while not done and not stalled and session.current.passes < max_passes:
            result = session.run(tol=tol, max_iterations=50 * every)
            done, stalled = result.converged, result.stalled
        sessions.append(session)
        converged.append(done)
    best = max(s.current.loglik for s in sessions)
    runs = []
    for session, ok in zip(sessions, converged):
        states = session.states
        first = next((i for i, s in enumerate(states) if s.kind != "init" and s.loglik >= best - reach), None)
        runs.append(ScheduleRun(session.schedule_object.describe(), session, ok,
                                None if first is None else states[first].e_steps,   # an iteration has one E
                                None if first is None else states[first].passes))
    return runs
