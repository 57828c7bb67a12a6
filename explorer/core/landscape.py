"""Pictures of F along one coordinate θ_j: the bound slice and the θ–q landscape.

For a grid of values g of θ_j (the other coordinates at the current θ), let θ_g be θ with
θ_j = g and q_g the family's E-step result at θ_g. Then:

* the bound slice (Bishop's Figure 9.14) draws, against t,
      log p(X | θ_t),   F(θ_t, q_current)   and   F(θ_t, q_t) (the best bound inside the family);
  the gap log p − F(θ_t, q_current) is KL(q_current ‖ p(Z | X, θ_t)), and the maximiser of
  F(θ_t, q_current) over the grid is where the M step along θ_j would go;
* the θ–q landscape is the matrix F[φ][t] = F(θ_t, q_φ) over (t, φ). On the diagonal t = φ it
  equals log p(X | θ_t) for the exact family, and lies below it by the family's irreducible gap
  for a constrained one. An E step moves along φ to the diagonal, an M step along t.

Each q_g costs one pass over the data; F(θ_t, q_φ) for all t then costs O(K) per t from the
sufficient statistics of q_φ (`Model.suff_stats`, `Model.ecll_from_stats`), so the G × G grid
costs G passes over the data, not G².
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from .errors import ExplorerError
from .model import coordinate_mover, get_coordinate


@dataclass(frozen=True)
class Landscape:
    key: str
    grid: np.ndarray            # (G,) values of θ_j, the t and φ axes
    loglik: np.ndarray          # (G,) log p(X | θ_t)
    best_bound: np.ndarray      # (G,) F(θ_t, q_t): the family's E step at θ_t
    F: np.ndarray               # (G, G) F[φ][t] = F(θ_t, q_φ)
    exact: bool                 # True when θ_j is the only free coordinate: the picture is fixed

    def to_json(self) -> dict:
        return {"key": self.key, "t": self.grid.tolist(), "loglik": self.loglik.tolist(),
                "best_bound": self.best_bound.tolist(), "F": self.F.tolist(), "exact": self.exact}


@dataclass(frozen=True)
class BoundSlice:
    key: str
    grid: np.ndarray            # (G,) values t of θ_j
    loglik: np.ndarray          # (G,) log p(X | θ_t)
    F: np.ndarray               # (G,) F(θ_t, q_current)
    best_bound: np.ndarray      # (G,) F(θ_t, q_t)
    current: float              # θ_j now
    m_target: float             # argmax over the grid of F(θ_t, q_current)

    def to_json(self) -> dict:
        return {"key": self.key, "t": self.grid.tolist(), "loglik": self.loglik.tolist(),
                "F": self.F.tolist(), "best_bound": self.best_bound.tolist(),
                "current": self.current, "m_target": self.m_target}


class LandscapeCalculator:
    """Computes landscapes for one model and family, reusing the grid's E steps while the
    coordinates other than θ_j (and the grid) stay the same."""

    def __init__(self, model, family, size: int = 50):
        if size < 3:
            raise ExplorerError("the landscape grid needs at least 3 points")
        self.model, self.family, self.size = model, family, int(size)
        self._cached = None   # (cache key, the grid's columns)

    def full_range(self, theta, key: str) -> tuple[float, float]:
        """The whole interval the model offers for θ_j (and θ_j itself)."""
        lo, hi = self.model.slice_range(theta, key)
        value = get_coordinate(theta, key)
        return min(lo, value), max(hi, value)

    def grid_for(self, theta, key: str, window: tuple[float, float] | None = None) -> np.ndarray:
        lo, hi = self.full_range(theta, key) if window is None else window
        return np.linspace(lo, hi, self.size)

    def _columns(self, theta, q, key, window=None):
        """θ_g, the statistics and entropy of q_g, log p(θ_g) and F(θ_g, q_g) for the grid."""
        grid = self.grid_for(theta, key, window)
        move = coordinate_mover(self.model.params(), theta, key)
        anchor = move(grid[0])                 # θ with θ_j moved: what the grid sees
        cache_key = (key, grid.tobytes(), tuple(v.tobytes() for v in anchor.values()))
        if self._cached is not None and self._cached[0] == cache_key:
            return self._cached[1]
        last = len(grid) - 1               # the ends are checked; the points between them lie inside
        thetas = [anchor] + [move(g, check=i == last) for i, g in enumerate(grid[1:], 1)]
        with self.model.keeping_caches():      # the grid's passes would evict the state's
            if self.family.closes_gap:    # q_g is the posterior: the model may batch the grid
                passes = self.model.grid_passes(thetas)
            else:
                passes = [self.model.summary_at(theta_g, self.family.e_step(self.model, theta_g, q))
                          for theta_g in thetas]
        loglik = np.array([p[0] for p in passes])
        stats = [p[1] for p in passes]
        matrix = self.model.ecll_grid(thetas, stats) + np.array([p[2] for p in passes])[:, None]
        best = np.diag(matrix).copy()          # F(θ_t, q_t)
        columns = (grid, thetas, loglik, best, matrix)
        self._cached = (cache_key, columns)
        return columns

    def landscape(self, theta, q, key: str, free_coordinates: int, window=None) -> Landscape:
        grid, _, loglik, best, matrix = self._columns(theta, q, key, window)
        return Landscape(key, grid, loglik, best, matrix, exact=free_coordinates <= 1)

    def bound_slice(self, theta, q, key: str, entropy: float | None = None, window=None,
                    m_target: float | None = None) -> BoundSlice:
        """`entropy`: H(q) when the caller knows it (a session's state does), to save a pass;
        `m_target`: `self.m_target(θ, q, key)` when the caller has it already."""
        grid, thetas, loglik, best, _ = self._columns(theta, q, key, window)
        stats = self.model.stats(q)
        entropy = self.model.entropy(q) if entropy is None else entropy
        F = self.model.ecll_grid(thetas, [stats])[0] + entropy
        target = self.m_target(theta, q, key) if m_target is None else m_target
        return BoundSlice(key, grid, loglik, F, best, get_coordinate(theta, key), target)

    def m_target(self, theta, q, key: str) -> float:
        """Where the M step along θ_j goes: argmax over t in θ_j's whole range of F(θ_t, q)
        (= E_q log p(X, Z | θ_t) + H(q); H does not depend on t). Searched over the whole range,
        not a zoomed window, so that the window can be chosen to show it."""
        lo, hi = self.full_range(theta, key)
        grid = np.linspace(lo, hi, self.size)
        move = coordinate_mover(self.model.params(), theta, key)
        stats = self.model.stats(q)
        ecll = self.model.ecll_grid([move(g, check=False) for g in grid], [stats])[0]
        return self._refined_argmax(theta, key, stats, grid, ecll)

    def _refined_argmax(self, theta, key, stats, grid, ecll) -> float:
        """The maximiser of F(θ_t, q) over t: the best grid point, refined by Brent's method
        between its neighbours (F is O(K) per t from the statistics)."""
        ecll = np.where(np.isnan(ecll), -np.inf, ecll)
        i = int(np.argmax(ecll))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        move = coordinate_mover(self.model.params(), theta, key)

        def negative_f(t):
            return -self.model.ecll_from_stats(move(t, check=False), stats)

        found = minimize_scalar(negative_f, bounds=(lo, hi), method="bounded",
                                options={"xatol": 1e-10 * (1 + abs(hi))})
        return float(found.x) if found.success and -found.fun >= ecll[i] else float(grid[i])


def free_coordinate_count(model, frozen) -> int:
    """How many scalar coordinates the M step moves (a simplex of K has K − 1; a frozen entry
    such as means[1] takes one away)."""
    count = 0
    for p in model.params():
        if p.name in frozen:
            continue
        entries = sum(1 for item in frozen if item.startswith(f"{p.name}["))
        count += max(p.constraint.free_dimension(tuple(p.shape)) - entries, 0)
    return count
