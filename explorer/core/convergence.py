"""How EM converges: the observed rate, the rate of the EM map, and a stopping rule that
reaches the fixed point.

Near a fixed point θ̂ the EM map θ → M(θ) is linear: θ^(t+1) − θ̂ ≈ J (θ^(t) − θ̂), and the
eigenvalues of its Jacobian J are the fractions of missing information (Dempster, Laird & Rubin
1977, §3). So the observed ratio

    r_t = |θ^(t+1) − θ^(t)| / |θ^(t) − θ^(t−1)|

tends to the largest eigenvalue of J (0.1328 for the genetic linkage data), and the distance
still to go is about |θ^(t+1) − θ^(t)| · r / (1 − r).

Aitken's Δ² (McLachlan & Krishnan, The EM Algorithm and Extensions, §4.9): with l_t the log
likelihood at iteration t and a = (l_{t+1} − l_t) / (l_t − l_{t−1}), the limit of log p is
estimated by l∞ = l_t + (l_{t+1} − l_t) / (1 − a). A run has converged when log p has stopped
moving (|l_{t+1} − l_t| ≤ tol), its estimated limit is within tol (|l∞ − l_{t+1}| ≤ tol), and θ's
estimated distance to its limit is within theta_tol relative to θ's size.
"""
from __future__ import annotations

import numpy as np

from .model import parse_key
from .reparam import flatten, unflatten


def theta_vector(theta: dict) -> np.ndarray:
    return np.concatenate([np.asarray(v, dtype=float).ravel() for v in theta.values()])


def ratio(a: dict, b: dict, c: dict) -> float | None:
    """|c − b| / |b − a| for three successive iterates (None when b = a)."""
    step, before = np.linalg.norm(theta_vector(c) - theta_vector(b)), np.linalg.norm(theta_vector(b) - theta_vector(a))
    return None if before == 0 else float(step / before)


def aitken_limit(l0: float, l1: float, l2: float) -> float | None:
    """The Δ² estimate of the limit of a linearly converging sequence (None if it is not)."""
    d1, d2 = l1 - l0, l2 - l1
    if d1 == 0:
        return l2
    a = d2 / d1
    if not 0 <= a < 1:
        return None
    return l1 + d2 / (1 - a)


class Stopping:
    """The stopping rule of `Session.run`, fed one iterate (θ, log p) per pass."""

    def __init__(self, tol: float, theta_tol: float):
        self.tol, self.theta_tol = tol, theta_tol
        self.thetas, self.logliks = [], []

    def add(self, theta: dict, loglik: float) -> bool:
        """True when the run has converged (see the module's docstring)."""
        self.thetas = (self.thetas + [theta])[-3:]
        self.logliks = (self.logliks + [loglik])[-3:]
        if len(self.logliks) < 3:
            return False
        l0, l1, l2 = self.logliks
        if abs(l2 - l1) > self.tol:
            return False
        limit = aitken_limit(l0, l1, l2)
        if limit is not None and abs(limit - l2) > self.tol:
            return False
        a, b, c = self.thetas
        step = np.linalg.norm(theta_vector(c) - theta_vector(b))
        size = np.linalg.norm(theta_vector(c)) or 1.0     # relative: a rate of 0.025 needs digits of its own
        r = ratio(a, b, c)
        r = 0.0 if r is None else min(r, 0.999999)
        return step * max(1.0, r / (1 - r)) <= self.theta_tol * size


def rates(states) -> list[float | None]:
    """The observed rate as of each state: θ at the start of each iteration (its E step) and
    the current θ are the iterates; None until there are three."""
    out, starts = [], []
    for state in states:
        if state.kind == "E":
            starts.append(state.theta)
        iterates = starts if state.kind == "E" or not starts else starts + [state.theta]
        out.append(ratio(*iterates[-3:]) if len(iterates) >= 3 else None)
    return out


def _recent_iterates(states, starts: int) -> list:
    """The last iterates as `rates` takes them: θ at the start of each of the last `starts`
    iterations (their E steps), then the current θ if it is not one of them; looking back
    only that far."""
    found = []
    for state in reversed(states):
        if state.kind == "E":
            found.append(state.theta)
            if len(found) == starts:
                break
    found.reverse()
    last = states[-1] if states else None
    return found if last is None or last.kind == "E" or not found else found + [last.theta]


def settled_rate(states, agree: float = 0.05) -> float | None:
    """The observed rate once it has settled: the last three estimates (from the last five
    iteration starts and the current θ) below 1 and within `agree` of each other, relative;
    else None. Far from the fixed point the ratio says nothing about the limit."""
    iterates = _recent_iterates(states, 5)
    if len(iterates) < 5:
        return None
    found = [ratio(*iterates[i - 3:i]) for i in range(len(iterates) - 2, len(iterates) + 1)]
    if any(r is None or not np.isfinite(r) or r >= 1 for r in found):
        return None
    if max(found) - min(found) > agree * max(found):
        return None
    return found[-1]


def em_map_rate(model, theta: dict, frozen=frozenset(), family=None, step: float = 1e-5) -> float:
    """The largest |eigenvalue| of the Jacobian of θ → M(E(θ)) at θ, by central differences in
    the unconstrained parametrisation (reparam.py; eigenvalues do not depend on it). At a fixed
    point this is the limit of the observed rate (the largest fraction of missing information)."""
    from .families import get_family
    params = model.params()
    free = [p.name for p in params if p.name not in frozen]
    family = get_family("exact") if family is None else family
    u0 = flatten(params, theta, free)

    def em_map(u):
        point = unflatten(params, theta, free, u)
        q = family.e_step(model, point, model.initial_q(point))
        return flatten(params, model.maximize(q, point, frozen), free)

    held, offset = set(), 0          # single frozen entries (means[1]): the map keeps them, leave them out
    for p in params:
        if p.name in free:
            for item in frozen:
                name, index = parse_key(item)
                if name == p.name and index:
                    held.add(offset + int(np.ravel_multi_index(index, p.shape)))
            offset += p.constraint.to_unconstrained(theta[p.name]).size
    moving = [j for j in range(len(u0)) if j not in held]
    jacobian = np.empty((len(u0), len(moving)))
    for column, j in enumerate(moving):
        h = step * max(1.0, abs(u0[j]))
        e = np.zeros_like(u0)
        e[j] = h
        jacobian[:, column] = (em_map(u0 + e) - em_map(u0 - e)) / (2 * h)
    square = jacobian[moving]
    return float(np.max(np.abs(np.linalg.eigvals(square)))) if moving else 0.0
