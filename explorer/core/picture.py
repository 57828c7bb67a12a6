"""Everything a picture of one session state needs: the bound slice, the θ–q landscape, the
path of the states on it, the current point and the fixed points. The app and the CLI's
`landscape` call `picture`, so both draw the same numbers.

The path. For a state whose q is the family's E step at some θ (a full E step, or an M step
after one), φ is θ_j at that E step and the point is (t, φ) = (θ_j now, θ_j at the E step):
E steps move along φ to the diagonal, M steps along t. A state whose q is not some q_φ (the
start, a partial E step of incremental EM or of one mean-field sweep) is placed on the contour
of its own F: at the φ in its column t where F(θ_t, q_φ) equals the state's F, between the
previous point's φ and the diagonal, so its colour is its true F (`placed` marks it).

The window. `zoom_window` picks the part of θ_j's range that the path, the current point, the
fixed points and the M step's target (the maximiser of F(·, q) along θ_j, the bound plot's
triangle, which captions point at) span (padded), and keeps the previous window while they still fill it, so
the landscape is not recomputed on every step when nothing in it changed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .families import Family, get_family
from .landscape import BoundSlice, Landscape, LandscapeCalculator, free_coordinate_count
from .model import get_coordinate

PAD = 0.35          # the zoomed window extends the path's span by this fraction on each side
MIN_FILL = 0.3      # a kept window must be filled this much by what it shows
MIN_SPAN = 0.2      # and spans at least this fraction of the whole range
COLOUR_QUANTILE = 0.25   # the landscape's colours resolve at least F's top three quarters
COLOUR_MARGIN = 0.1      # and reach this fraction of their span below the path's lowest F


@dataclass(frozen=True)
class Path:
    t: list[float]
    phi: list[float]
    F: list[float]
    index: list[int]
    kind: list[str]
    placed: list[bool]        # True: a q off the path q_φ, placed on the contour of its own F

    def to_json(self) -> dict:
        return {"t": self.t, "phi": self.phi, "F": self.F, "index": self.index, "kind": self.kind,
                "placed": self.placed}


@dataclass(frozen=True)
class Picture:
    key: str
    n_free: int
    bound: BoundSlice
    landscape: Landscape
    path: Path
    now: tuple[float, float, float]          # (θ_j, φ, F) of the current state
    kl: float                                # log p − F of the current state, at its own θ
    fixed_points: tuple                      # (name, θ_j) of converged runs to mark
    window: tuple[float, float]
    full_range: tuple[float, float]
    loglik: float = float("nan")             # log p of the current state (its KL is written from it and F)
    family: Family | None = None             # the family whose E steps make q_φ (its words, its gap)
    fresh: bool = True                       # its window chosen afresh (a new screen), not moved on from the last

    @property
    def exact(self) -> bool:
        return self.landscape.exact

    @property
    def landscape_title(self) -> str:
        """The landscape's title: what the picture is (whole, with θ_j the only free coordinate,
        or a slice through N free ones) and what q is: "exact" only where the family closes the
        gap and the picture is whole; a constrained family's own short name where the picture is
        whole, "Q′" in a slice (a third of a 1366-px screen has room for about 34 characters of
        DejaVu Sans bold: "mean field, 1 sweep, slice of 52" was cut)."""
        whole = self.landscape.exact
        if self.family is None or self.family.closes_gap:
            kind = "exact" if whole else f"slice, {self.n_free} free"
        else:
            kind = self.family.short if whole else f"Q′ slice, {self.n_free} free"
        return f"θ–q landscape ({kind})"

    @property
    def colour_range(self) -> tuple[float, float]:
        """The span of F the landscape's colours resolve (see `colour_range`)."""
        return colour_range(self.landscape.F, self.path.F)

    def to_json(self) -> dict:
        grid = self.landscape.to_json()
        return {"param": self.key, "free_coordinates": self.n_free, "slice": self.bound.to_json(),
                "landscape": {"t": grid["t"], "phi": grid["t"], "F": grid["F"], "loglik": grid["loglik"],
                              "best_bound": grid["best_bound"], "exact": grid["exact"],
                              "path": self.path.to_json(),
                              "now": dict(zip(("t", "phi", "F"), self.now))},
                "kl_now": self.kl, "window": list(self.window), "full_range": list(self.full_range),
                "fixed_points": [{"name": n, "value": v} for n, v in self.fixed_points]}


def landscape_axes(key: str) -> tuple[str, str]:
    """The landscape's axis labels: x names the coordinate θ_j, y refers to it and stays short
    whatever the coordinate's name (the frame's height is the third of a 1366-px screen's row:
    "φ (coefficients[0,0] at q's E step)" was cut)."""
    return f"t (θ_j = {key})", "φ (θ_j at q's E step)"


def colour_range(F: np.ndarray, path_F=()) -> tuple[float, float]:
    """The span (low, high) of F that the landscape's colours resolve: from the lower of the
    surface's lower quartile and the path's lowest F (less COLOUR_MARGIN of the span, so that
    point is not in the lowest colour) up to the surface's top. Anchored on the path, not on
    the surface's minimum: a hard family's surface plunges far from the path, and a range down
    to its minimum drew nearly all of it, the path's region included, in the top colour. A path
    F that no cell of the surface reaches (a start outside Q′ above all of it; earlier states of
    another slice, or a start far from the data, below it) does not stretch the range. F below
    `low` is drawn in the lowest colour (the colour bar starts at `low`)."""
    finite = np.asarray(F, float)[np.isfinite(F)]
    if finite.size == 0:
        return 0.0, 1.0
    top, bottom = float(finite.max()), float(finite.min())
    on = [v for v in path_F if np.isfinite(v) and bottom <= v <= top]
    low = min([float(np.quantile(finite, COLOUR_QUANTILE))] + on)
    if top <= low:                        # a flat landscape
        return top - 1.0, top
    return max(bottom, low - COLOUR_MARGIN * (top - low)), top


def landscape_calculator(model, family: "Family | str", grid: int = 50) -> LandscapeCalculator:
    """The calculator of a model's landscapes (the one place the app, the CLI, the standalone
    page and the figures build one): `family` by name or as a Family, bound to the model (the
    model may word its own family), on `grid` points per axis."""
    if isinstance(family, str):
        family = get_family(family, model)
    return LandscapeCalculator(model, family, grid)


def picture(session, key: str, calculator: LandscapeCalculator, zoom: bool = True,
            previous_window: tuple[float, float] | None = None, fixed_points=(),
            memo: "PathMemo | None" = None) -> Picture:
    """The picture of `session.current` along coordinate `key` (see the module's docstring);
    `memo` keeps the path between pictures of one growing history (see `PathMemo`)."""
    state = session.current
    full = calculator.full_range(state.theta, key)
    memo = memo if memo is not None else PathMemo()
    raw = memo.path_points(session.states, key)
    target = calculator.m_target(state.theta, state.q, key)
    if zoom:
        shown = raw[0] + [p for p in raw[1] if p is not None] + [v for _, v in fixed_points] + [target]
        window = zoom_window(shown, full, previous_window)
    else:
        window = full
    n_free = free_coordinate_count(session.model, session.frozen)
    bound = calculator.bound_slice(state.theta, state.q, key, state.entropy, window=window, m_target=target)
    landscape = calculator.landscape(state.theta, state.q, key, n_free, window=window)
    path = memo.place(raw, session.states, landscape)
    now = (path.t[-1], path.phi[-1], state.F)
    return Picture(key, n_free, bound, landscape, path, now, state.kl, tuple(fixed_points), window, full,
                   state.loglik, calculator.family, fresh=previous_window is None)


def path_points(states, key: str):
    """θ_j of each state and, where its q is some q_φ, that φ (None where it is not)."""
    return PathMemo().path_points(states, key)


def place_on_landscape(raw, states, landscape: Landscape) -> Path:
    return PathMemo().place(raw, states, landscape)


class PathMemo:
    """The path of a history that grows a state at a time, kept between pictures. States are
    immutable, so the points of the states seen before are reused, and a placed point (a q off
    the path q_φ) is placed again only when the landscape changes: a step costs its new point,
    not the whole history."""

    def __init__(self):
        self.key = None
        self.states, self.ts, self.phis, self.last_e = [], [], [], []   # last_e: φ of the last E step so far
        self.placed_on, self.placed = None, {}                          # the landscape's F, {index: φ} on it

    def _common_prefix(self, states) -> int:
        m = len(self.states)
        if m <= len(states) and m and states[m - 1] is self.states[m - 1] and states[0] is self.states[0]:
            return m
        n = 0
        while n < min(m, len(states)) and states[n] is self.states[n]:
            n += 1
        return n

    def path_points(self, states, key: str):
        n = self._common_prefix(states) if key == self.key else 0
        if n < len(self.states) or key != self.key:
            self.key = key
            del self.states[n:], self.ts[n:], self.phis[n:], self.last_e[n:]
            self.placed = {}
        phi = self.last_e[-1] if self.last_e else None
        for state in states[n:]:
            t = get_coordinate(state.theta, key)
            if state.kind == "E":
                phi = t
            self.states.append(state)
            self.ts.append(t)
            self.phis.append(None if state.partial or phi is None else phi)
            self.last_e.append(phi)
        return list(self.ts), list(self.phis)

    def place(self, raw, states, landscape: Landscape) -> Path:
        ts, phis = raw
        if self.placed_on is not landscape.F:
            self.placed_on, self.placed = landscape.F, {}
        grid, matrix = landscape.grid, landscape.F
        out_phi, placed = [], []
        for i, (t, phi, state) in enumerate(zip(ts, phis, states)):
            if phi is None:
                phi = self.placed.get(i)
                if phi is None or i == len(ts) - 1:
                    start = out_phi[-1] if out_phi else None
                    column = column_at(grid, matrix, t)
                    phi = self.placed[i] = (contour_crossing(grid, column, state.F, t, start) if start is not None
                                            else start_crossing(grid, column, state.F, t))
            out_phi.append(float(phi))
            placed.append(state.partial or phis[i] is None)
        return Path(ts, out_phi, [s.F for s in states], [s.index for s in states], [s.kind for s in states],
                    placed)


def column_at(grid, matrix, t: float) -> np.ndarray:
    """F(θ_t, q_φ) for every φ of the grid, interpolated linearly between the grid's t columns."""
    j = int(np.clip(np.searchsorted(grid, t) - 1, 0, len(grid) - 2))
    w = float(np.clip((t - grid[j]) / (grid[j + 1] - grid[j]), 0.0, 1.0)) if grid[j + 1] != grid[j] else 0.0
    if w in (0.0, 1.0):                 # on a grid column (also where F is −∞ there)
        return matrix[:, j + int(w)].copy()
    with np.errstate(invalid="ignore"):
        return (1 - w) * matrix[:, j] + w * matrix[:, j + 1]


def start_crossing(grid, column, value: float, diagonal: float) -> float:
    """Where the path's first point goes (its q is no q_φ): on its own contour below the
    diagonal, nearest to it, so the first E step moves up to the diagonal; at the window's
    lower edge when its F is below every F there (a start far from the data). Never at an edge
    that flips with the zoom (the first E move was drawn coming down from the top)."""
    below = grid <= diagonal + 1e-12
    if below.sum() >= 2:
        crossings = _crossings(grid[below], column[below], value)
        if crossings:
            return float(max(crossings))
    return float(grid[0])


def _crossings(grid, column, value: float) -> list[float]:
    """Every φ where the column, linear between grid points, equals `value` (finite cells only)."""
    d = column - value
    a, b = d[:-1], d[1:]                       # the two ends of each cell
    with np.errstate(invalid="ignore"):
        cross = np.isfinite(a) & np.isfinite(b) & (a * b <= 0) & (a != b)
    lo, hi, a, b = grid[:-1][cross], grid[1:][cross], a[cross], b[cross]
    return (lo + (hi - lo) * a / (a - b)).tolist()


def contour_crossing(grid, column, value: float, diagonal: float, start: float) -> float:
    """The φ where column(φ) = value: the crossing between `start` and the diagonal nearest to
    `start` (else the one nearest the diagonal); the closest grid point if the column never
    reaches the value."""
    crossings = _crossings(grid, column, value)
    if not crossings:
        d = column - value
        finite = np.where(np.isfinite(d), np.abs(d), np.inf)
        return float(grid[int(np.argmin(finite))])
    lo, hi = sorted((start, diagonal))
    between = [c for c in crossings if lo - 1e-12 <= c <= hi + 1e-12]
    if between:
        return float(min(between, key=lambda c: abs(c - start)))
    return float(min(crossings, key=lambda c: abs(c - diagonal)))


def zoom_window(values, full: tuple[float, float], previous=None) -> tuple[float, float]:
    """The part of `full` that `values` span, padded by PAD of their span on each side; the
    previous window is kept while it contains them and they fill at least MIN_FILL of it; a window spans at least MIN_SPAN of `full`."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    lo, hi = float(values.min()), float(values.max())
    span = max(hi - lo, MIN_SPAN * (full[1] - full[0]) / (1 + 2 * PAD), 1e-9)
    if previous is not None:
        p_lo, p_hi = previous
        if p_lo <= lo and hi <= p_hi and (hi - lo) >= MIN_FILL * (p_hi - p_lo) and full[0] <= p_lo \
                and p_hi <= full[1]:
            return previous
    return max(full[0], lo - PAD * span), min(full[1], hi + PAD * span)


__all__ = ["Picture", "Path", "PathMemo", "colour_range", "landscape_axes", "picture", "zoom_window", "free_coordinate_count"]
