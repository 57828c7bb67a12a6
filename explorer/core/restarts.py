"""EM from many starts: the local optima a likelihood has, and how often each is reached.

EM climbs to the fixed point whose basin its start lies in. Run from R seeded starts, the
distinct fixed points found (with how many starts reached each) show what a single run hides.
Mixtures have K! copies of every fixed point, one per labelling of the components; a model that
defines `canonical(θ) → (θ in a canonical labelling, whether it was relabelled)` has those
copies merged and counted. Two fixed points are the same when their log p agree to
`same_loglik` and their canonical θ to `same_theta`, both relative.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .convergence import theta_vector
from .errors import ExplorerError
from .model import theta_to_json
from .session import Session

MAX_STARTS = 100


@dataclass
class FixedPoint:
    theta: dict                 # in the canonical labelling
    loglik: float
    seeds: list[int] = field(default_factory=list)      # the starts that reached it
    relabelled: int = 0         # how many of them arrived in another labelling (merged here)
    converged: int = 0          # how many of them met the stopping rule (the rest hit the cap)

    @property
    def count(self) -> int:
        return len(self.seeds)

    def to_json(self) -> dict:
        return {"theta": theta_to_json(self.theta), "loglik": self.loglik, "count": self.count,
                "seeds": self.seeds, "relabelled": self.relabelled, "converged": self.converged}


@dataclass
class Restarts:
    fixed_points: list[FixedPoint]        # best log p first
    traces: dict[int, list[float]]        # seed → log p after each iteration

    def to_json(self) -> dict:
        return {"starts": len(self.traces), "fixed_points": [p.to_json() for p in self.fixed_points],
                "traces": {str(seed): trace for seed, trace in self.traces.items()}}


def canonical(model, theta: dict) -> tuple[dict, bool]:
    """θ in the model's canonical labelling (and whether it changed), if the model has one."""
    hook = getattr(model, "canonical", None)
    return hook(theta) if callable(hook) else (theta, False)


SAME_LOGLIK = 1e-7   # two ends of EM are one fixed point when log p agrees to this (relative)
SAME_THETA = 1e-3    # and θ (its canonical labelling) agrees to this (relative)


def run_restarts(model, starts: int, seed: int = 0, family: str = "exact", frozen=None, tol: float = 1e-8,
                 max_iterations: int = 2000, same_loglik: float = SAME_LOGLIK, same_theta: float = SAME_THETA,
                 progress=None) -> Restarts:
    """EM to convergence from the seeded starts seed, seed + 1, …, seed + starts − 1.
    `progress(done, starts)` is told the starts done after each iteration (so a caller can stop
    a long start by raising from it) and after each start."""
    if not 1 <= starts <= MAX_STARTS:
        raise ExplorerError(f"the number of starts must be between 1 and {MAX_STARTS}, got {starts}")
    points: list[FixedPoint] = []
    traces = {}
    for r in range(starts):
        session = Session(model, family=family, frozen=frozen, seed=seed + r, keep_q=2)
        trace = [session.current.loglik]
        def iteration(i, state, done=r):
            trace.append(state.loglik)
            if progress is not None:
                progress(done, starts)
        result = session.run(tol=tol, max_iterations=max_iterations, progress=iteration)
        traces[seed + r] = trace
        theta, relabelled = canonical(model, session.current.theta)
        loglik = session.current.loglik
        match = next((p for p in points if same_fixed_point(p, theta, loglik, same_loglik, same_theta)), None)
        if match is None:
            match = FixedPoint(theta, loglik)
            points.append(match)
        match.seeds.append(seed + r)
        match.relabelled += relabelled
        match.converged += result.converged
        if progress is not None:
            progress(r + 1, starts)
    points.sort(key=lambda p: -p.loglik)
    return Restarts(points, traces)


def same_fixed_point(point: FixedPoint, theta: dict, loglik: float, same_loglik: float = SAME_LOGLIK,
                     same_theta: float = SAME_THETA) -> bool:
    """Is (θ, log p) the fixed point `point`: log p and θ (canonical) agree, relative?"""
    if abs(point.loglik - loglik) > same_loglik * (1 + abs(loglik)):
        return False
    a, b = theta_vector(point.theta), theta_vector(theta)
    return bool(np.linalg.norm(a - b) <= same_theta * (1 + np.linalg.norm(a)))
