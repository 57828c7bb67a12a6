"""Constraints on a parameter block, one class each.

A constraint knows everything the core needs about the set its values live in:

    check(name, a)             raise ExplorerError naming the rule a value breaks
    random(shape, rng)         a random feasible value (a start for models without init_theta)
    to_unconstrained(a)        u ∈ ℝ^m, and from_unconstrained(u, shape) back to a feasible value
    perturb(a, rng, scale)     a small random feasible move (tests and the checks)
    free_dimension(shape)      how many scalars move freely (a simplex of K has K − 1)
    is_coordinate(index)       whether an entry is its own coordinate (a covariance's upper
                               triangle; the lower one mirrors it)
    set_entry(a, index, v)     a with one entry set to v, the rest adjusted to stay feasible
    slice_range(a, index)      the interval a slice or landscape spans along that entry

A new constraint is one subclass registered in CONSTRAINTS; `Param("w", (3,), "ordered", ...)`
then works in validation, the gradient schedule, the generic numerical M step, the landscape
and the checks.
"""
from __future__ import annotations

import numpy as np

from .errors import ExplorerError

EDGE = 1e-12            # unit and simplex values are kept this far inside their range (maps)
SIMPLEX_TOL = 1e-8      # how close to 1 a simplex must sum
SYMMETRY_TOL = 1e-8     # how asymmetric a covariance may be
CONDITION_LIMIT = 1e-13  # a covariance's smallest eigenvalue over its largest, at least: beyond it
                         # Cholesky factors and solves fail in floating point (a θ off the space)


class Constraint:
    name = "constraint"
    description = ""

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<constraint {self.name}>"

    def __eq__(self, other) -> bool:
        """Equal to another constraint of the same name, or to the name itself (so a model
        written against the string spelling, `p.constraint == "positive"`, keeps working)."""
        if isinstance(other, str):
            return other == self.name
        return isinstance(other, Constraint) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def check(self, name: str, a: np.ndarray) -> None:
        pass

    def random(self, shape: tuple, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def to_unconstrained(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def from_unconstrained(self, u: np.ndarray, shape: tuple) -> np.ndarray:
        raise NotImplementedError

    def perturb(self, a: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
        """A nearby feasible value: noise of size `scale` in the unconstrained parametrisation."""
        u = self.to_unconstrained(a)
        return self.from_unconstrained(u + rng.normal(scale=scale, size=u.shape), a.shape)

    def free_dimension(self, shape: tuple) -> int:
        return int(np.prod(shape)) if shape else 1

    def is_coordinate(self, index: tuple) -> bool:
        return True

    def set_entry(self, a: np.ndarray, index: tuple, value: float) -> np.ndarray:
        a = np.array(a, dtype=float)
        a[index] = value
        return a

    def slice_range(self, a: np.ndarray, index: tuple) -> tuple[float, float]:
        value = float(np.asarray(a)[index])
        width = max(1.0, abs(value))
        return value - width, value + width


class Real(Constraint):
    name = "real"
    description = "any finite value"

    def random(self, shape, rng):
        return rng.normal(size=shape)

    def to_unconstrained(self, a):
        return np.array(a, dtype=float)

    def from_unconstrained(self, u, shape):
        return np.asarray(u, dtype=float).reshape(shape)

    def perturb(self, a, rng, scale):
        return a + rng.normal(scale=scale, size=a.shape) * np.maximum(np.abs(a), 1.0)


class Positive(Constraint):
    name = "positive"
    description = "> 0"

    def check(self, name, a):
        if np.any(a <= 0):
            raise ExplorerError(f"parameter {name!r} must be positive, got {a.tolist()}")

    def random(self, shape, rng):
        return np.exp(rng.normal(scale=0.5, size=shape))

    def to_unconstrained(self, a):
        return np.log(a)

    def from_unconstrained(self, u, shape):
        return np.exp(u).reshape(shape)

    def slice_range(self, a, index):
        value = float(np.asarray(a)[index])
        return value / 5, value * 5


class Unit(Constraint):
    name = "unit"
    description = "in [0, 1]"

    def check(self, name, a):
        if np.any((a < 0) | (a > 1)):
            raise ExplorerError(f"parameter {name!r} must lie in [0, 1], got {a.tolist()}")

    def random(self, shape, rng):
        return rng.uniform(0.2, 0.8, size=shape)

    def to_unconstrained(self, a):
        inner = np.clip(a, EDGE, 1 - EDGE)
        return np.log(inner) - np.log1p(-inner)

    def from_unconstrained(self, u, shape):
        return (1 / (1 + np.exp(-u))).reshape(shape)

    def slice_range(self, a, index):
        return 0.005, 0.995


class Simplex(Constraint):
    """Entries ≥ 0 summing to 1 along the last axis. Unconstrained: u = log w (softmax back;
    the extra degree of freedom is harmless)."""
    name = "simplex"
    description = "entries ≥ 0 summing to 1 along the last axis"

    def check(self, name, a):
        if np.any(a < 0):
            raise ExplorerError(f"parameter {name!r} must be non-negative, got {a.tolist()}")
        if np.any(np.abs(a.sum(axis=-1) - 1) > SIMPLEX_TOL):
            raise ExplorerError(f"parameter {name!r} must sum to 1, got sum {float(a.sum()):.10g}")

    def random(self, shape, rng):
        return rng.dirichlet(np.full(shape[-1], 5.0), size=shape[:-1] or None)

    def to_unconstrained(self, a):
        return np.log(np.maximum(a, EDGE))

    def from_unconstrained(self, u, shape):
        e = np.exp(u - u.max(axis=-1, keepdims=True))
        return (e / e.sum(axis=-1, keepdims=True)).reshape(shape)

    def perturb(self, a, rng, scale):
        moved = np.maximum(a, 1e-300) * np.exp(rng.normal(scale=scale, size=a.shape))
        return moved / moved.sum(axis=-1, keepdims=True)

    def free_dimension(self, shape):
        return int(np.prod(shape)) - int(np.prod(shape[:-1]))

    def set_entry(self, a, index, value):
        """w_j = v; the other entries of its simplex are rescaled to sum to 1 − v."""
        a = np.array(a, dtype=float)
        row = a[index[:-1]] if len(index) > 1 else a
        j = index[-1]
        rest = row.sum() - row[j]
        others = np.arange(row.size) != j
        row[others] = (row[others] / rest * (1 - value)) if rest > 0 else (1 - value) / (row.size - 1)
        row[j] = value
        return a

    def slice_range(self, a, index):
        return 0.005, 0.995


# The smallest positive double (4.9e-324): an M-step probability whose expected count is positive
# but whose quotient underflows is rounded up to it rather than down to 0 (see kept_positive).
PROBABILITY_FLOOR = float(np.nextafter(0.0, 1.0))


def floor_eigenvalues(cov, low: float, relative: bool = False) -> np.ndarray:
    """A symmetric matrix with its eigenvalues raised to at least `low` (with relative, `low`
    × its largest eigenvalue): V max(Λ, low) Vᵀ, symmetrised; `cov` itself when none is below.
    The callers' warnings say when it acts."""
    values, vectors = np.linalg.eigh(cov)
    if relative:
        low = low * values[-1]
    if values[0] >= low:
        return cov
    raised = (vectors * np.maximum(values, low)) @ vectors.T
    return (raised + raised.T) / 2


def kept_positive(counts, probabilities):
    """An M step's probabilities N_j / N, with an entry whose expected count is positive but
    whose quotient underflows to 0 rounded up to PROBABILITY_FLOOR instead: a 0 there would
    make E_q log p = N_j log 0 = −∞ while q still expects it (the model's warnings name it).
    Entries with a zero count stay exactly 0, and the next E step, which sees how small the
    floored entry is, usually gives it a zero count, so EM still reaches the 0."""
    return np.where((counts > 0) & (probabilities < PROBABILITY_FLOOR), PROBABILITY_FLOOR, probabilities)


class Covariance(Constraint):
    """A stack of symmetric positive-definite matrices in the last two axes. Unconstrained:
    the lower triangle of L with log on its diagonal, where Σ = L Lᵀ (Cholesky)."""
    name = "covariance"
    description = "symmetric positive-definite matrices in the last two axes"

    def check(self, name, a):
        if np.any(np.abs(a - np.swapaxes(a, -1, -2)) > SYMMETRY_TOL * (1 + np.abs(a))):
            raise ExplorerError(f"parameter {name!r} must be symmetric")
        values = np.linalg.eigvalsh(a)
        if np.any(values[..., 0] <= 0):
            raise ExplorerError(f"parameter {name!r} must be positive definite")
        if np.any(values[..., 0] <= CONDITION_LIMIT * values[..., -1]):
            raise ExplorerError(f"parameter {name!r} must be positive definite to working precision: its smallest "
                                f"eigenvalue must exceed {CONDITION_LIMIT:g} × its largest, got eigenvalues "
                                f"{np.asarray(values).tolist()} (a Cholesky factor or solve would fail)")

    def random(self, shape, rng):
        return np.broadcast_to(np.eye(shape[-1]), shape).copy()

    def to_unconstrained(self, a):
        chol = np.linalg.cholesky(a)
        rows, cols = np.tril_indices(a.shape[-1])
        out = chol[..., rows, cols].copy()
        diagonal = rows == cols
        out[..., diagonal] = np.log(out[..., diagonal])
        return out

    def from_unconstrained(self, u, shape):
        rows, cols = np.tril_indices(shape[-1])
        chol = np.zeros(shape)
        values = np.array(u, dtype=float)
        diagonal = rows == cols
        values[..., diagonal] = np.exp(values[..., diagonal])
        chol[..., rows, cols] = values
        cov = chol @ np.swapaxes(chol, -1, -2)
        return (cov + np.swapaxes(cov, -1, -2)) / 2

    def perturb(self, a, rng, scale):
        """A Σ Aᵀ with A = I + noise."""
        mix = np.eye(a.shape[-1]) + rng.normal(scale=scale, size=a.shape)
        moved = mix @ a @ np.swapaxes(mix, -1, -2)
        return (moved + np.swapaxes(moved, -1, -2)) / 2

    def free_dimension(self, shape):
        d = shape[-1]
        return int(np.prod(shape[:-2])) * d * (d + 1) // 2

    def is_coordinate(self, index):
        return index[-2] <= index[-1]

    def set_entry(self, a, index, value):
        """Σ_ab = v also sets Σ_ba."""
        a = np.array(a, dtype=float)
        a[index] = value
        a[index[:-2] + (index[-1], index[-2])] = value
        return a

    def slice_range(self, a, index):
        if index[-1] == index[-2]:
            value = float(np.asarray(a)[index])
            return value / 5, value * 5
        return super().slice_range(a, index)


class Ordered(Constraint):
    """Strictly increasing along the last axis (e.g. mixture means with the labels fixed, so
    label switching cannot happen). Unconstrained: the first entry, then the logs of the gaps."""
    name = "ordered"
    description = "strictly increasing along the last axis"

    def check(self, name, a):
        if a.ndim and np.any(np.diff(a, axis=-1) <= 0):
            raise ExplorerError(f"parameter {name!r} must be strictly increasing, got {a.tolist()}")

    def random(self, shape, rng):
        return np.sort(rng.normal(size=shape), axis=-1)

    def to_unconstrained(self, a):
        a = np.asarray(a, dtype=float)
        return np.concatenate([a[..., :1], np.log(np.diff(a, axis=-1))], axis=-1)

    def from_unconstrained(self, u, shape):
        u = np.asarray(u, dtype=float)
        return np.cumsum(np.concatenate([u[..., :1], np.exp(u[..., 1:])], axis=-1), axis=-1).reshape(shape)

    def slice_range(self, a, index):
        """Between the neighbours, so that the slice stays ordered."""
        a = np.asarray(a, dtype=float)
        row, j = (a[index[:-1]] if len(index) > 1 else a), index[-1]
        width = max(1.0, float(np.ptp(row)) if row.size > 1 else 1.0)
        lo = row[j - 1] if j > 0 else row[j] - width
        hi = row[j + 1] if j + 1 < row.size else row[j] + width
        gap = 1e-6 * (hi - lo)
        return float(lo + gap), float(hi - gap)


CONSTRAINTS: dict[str, Constraint] = {c.name: c for c in
                                      (Real(), Positive(), Unit(), Simplex(), Covariance(), Ordered())}


def get_constraint(spec) -> Constraint:
    """A constraint from its name or itself."""
    if isinstance(spec, Constraint):
        return spec
    if spec not in CONSTRAINTS:
        raise ValueError(f"unknown constraint {spec!r} (constraints: {', '.join(CONSTRAINTS)})")
    return CONSTRAINTS[spec]
