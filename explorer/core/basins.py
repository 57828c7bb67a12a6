"""Basins of attraction: which fixed point EM reaches from each start on a grid.

Two coordinates θ_a, θ_b vary over a grid (the other parameters held at their values in θ0 and
frozen); EM runs from every grid point to convergence, and each start is coloured by the fixed
point it reaches. With the two means of a two-component mixture free, the map is symmetric
about the diagonal μ_1 = μ_2: swapping the starts swaps the labels of the fixed point reached.

A model may run many starts at once (`em_many(thetas, frozen, max_iterations, tol)`, θ values
stacked along a first axis); otherwise each start runs in its own session.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .convergence import theta_vector
from .errors import ExplorerError
from .model import get_coordinate, parse_key, set_coordinate
from .restarts import FixedPoint, canonical, same_fixed_point
from .session import Session


@dataclass
class Basins:
    keys: tuple[str, str]
    x: np.ndarray                 # (G,) values of θ_a
    y: np.ndarray                 # (G,) values of θ_b
    label: np.ndarray             # (G, G) index of the fixed point reached from (x[j], y[i]); −1: none
    fixed_points: list[dict]      # θ of each fixed point
    logliks: list[float]
    counts: list[int]
    twin_of: list                 # for each fixed point: the better one it is a label-switched twin of, or None

    def to_json(self) -> dict:
        from .model import theta_to_json
        return {"keys": list(self.keys), "x": self.x.tolist(), "y": self.y.tolist(), "label": self.label.tolist(),
                "fixed_points": [{"theta": theta_to_json(t), "loglik": l, "count": c, "twin_of": w}
                                 for t, l, c, w in zip(self.fixed_points, self.logliks, self.counts, self.twin_of)]}


def basins(model, theta0: dict, keys: tuple[str, str], ranges=None, grid: int = 40, max_iterations: int = 500,
           tol: float = 1e-8, progress=None) -> Basins:
    """EM from every point of a grid over coordinates `keys` (the rest of θ0 held)."""
    if len(keys) != 2 or keys[0] == keys[1]:
        raise ExplorerError("a basins map needs two different coordinates")
    if not 2 <= grid <= 200:
        raise ExplorerError(f"the basins grid must have 2 to 200 points a side, got {grid}")
    params = model.params()
    theta0 = model.start_theta(0, theta0)
    free = {parse_key(k)[0] for k in keys}
    frozen = frozenset(p.name for p in params if p.name not in free)
    for k in keys:
        get_coordinate(theta0, k)
    ranges = ranges or [model.slice_range(theta0, k) for k in keys]
    x, y = (np.linspace(lo, hi, grid) for lo, hi in ranges)
    starts = []
    for b in y:
        for a in x:
            starts.append(set_coordinate(params, set_coordinate(params, theta0, keys[0], a), keys[1], b))
    batch = getattr(model, "em_many", None)
    if callable(batch):
        finals, logliks = batch(starts, frozen, max_iterations, tol)
    else:
        finals, logliks = [], []
        for i, start in enumerate(starts):
            session = Session(model, start, frozen=frozen, keep_q=2)
            session.run(tol=tol, max_iterations=max_iterations)
            finals.append(session.current.theta)
            logliks.append(session.current.loglik)
            if progress is not None and i % grid == 0:
                progress(i, len(starts))
    cell = (abs(x[1] - x[0]), abs(y[1] - y[0]))                     # grid ≥ 2, checked above
    points, point_logliks, counts, labels = [], [], [], []
    for theta, loglik in zip(finals, logliks):
        match = next((j for j, (p, l) in enumerate(zip(points, point_logliks))
                      if _same_point(p, l, theta, loglik, keys, cell)), None)
        if match is None:
            points.append(theta)
            point_logliks.append(float(loglik))
            counts.append(0)
            match = len(points) - 1
        elif loglik > point_logliks[match]:       # the one EM got furthest with stands for them
            points[match], point_logliks[match] = theta, float(loglik)
        counts[match] += 1
        labels.append(match)
    order = np.argsort(-np.array(point_logliks), kind="stable")      # best fixed point first
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    label = rank[np.array(labels)].reshape(grid, grid)
    points, point_logliks = [points[i] for i in order], [point_logliks[i] for i in order]
    return Basins(tuple(keys), x, y, label, points, point_logliks, [counts[i] for i in order],
                  twins(model, points, point_logliks))


def _same_point(a: dict, loglik_a: float, b: dict, loglik_b: float, keys, cell) -> bool:
    """Two ends of EM runs are one fixed point when their θ agree to 1e-3 (relative), or when
    their log p agree to 1e-6 (relative) and they lie within one grid cell of the map in both
    coordinates: where log p is that flat EM crawls (its rate near 1) and stops before it gets
    there, at places the map could not tell apart."""
    va, vb = theta_vector(a), theta_vector(b)
    if np.linalg.norm(va - vb) <= 1e-3 * (1 + np.linalg.norm(va)):
        return True
    if abs(loglik_a - loglik_b) > 1e-6 * (1 + abs(loglik_a)):
        return False
    return all(abs(get_coordinate(a, k) - get_coordinate(b, k)) <= c for k, c in zip(keys, cell))


def twins(model, points: list[dict], logliks: list[float]) -> list:
    """For each fixed point, the index of an earlier (better or equal) one that is the same fixed
    point with its labels switched (the model's `canonical` θ agree, and log p), else None."""
    if not callable(getattr(model, "canonical", None)):
        return [None] * len(points)
    canon = [FixedPoint(canonical(model, p)[0], loglik) for p, loglik in zip(points, logliks)]
    out = []
    for i, point in enumerate(canon):
        out.append(next((j for j in range(i) if out[j] is None and same_fixed_point(canon[j], point.theta, point.loglik)), None))
    return out
