"""An unconstrained parametrisation of θ, for gradient steps and numerical M steps.

Each free parameter block maps to unconstrained reals u by its constraint (constraints.py):

    real        u = θ
    positive    u = log θ
    unit        u = logit θ = log θ − log(1 − θ)
    simplex     u = log w (the softmax of u gives w back; the extra degree of freedom is harmless)
    covariance  u = the lower triangle of L, with log on its diagonal, where Σ = L Lᵀ (Cholesky)
    ordered     u = (θ_1, log(θ_2 − θ_1), ...)

`flatten` gives the vector of the free blocks, `unflatten` a validated θ from such a vector.
"""
from __future__ import annotations

import numpy as np

from .errors import ExplorerError
from .model import Param, validate_theta

# What a θ off its feasible set raises: a failed check, or the model's linear algebra failing
# (a matrix that lost definiteness in floating point). An objective treats both as −∞.
INFEASIBLE = (ExplorerError, np.linalg.LinAlgError)


def flatten(params: list[Param], theta: dict, free: list[str]) -> np.ndarray:
    by_name = {p.name: p for p in params}
    parts = [by_name[name].constraint.to_unconstrained(theta[name]).reshape(-1) for name in free]
    return np.concatenate(parts) if parts else np.zeros(0)


def unflatten(params: list[Param], theta: dict, free: list[str], vector: np.ndarray) -> dict:
    by_name = {p.name: p for p in params}
    new, start = dict(theta), 0
    for name in free:
        p = by_name[name]
        template = p.constraint.to_unconstrained(theta[name])
        size = template.size
        with np.errstate(over="ignore", invalid="ignore"):     # far out: inf/nan, refused by the check
            new[name] = p.constraint.from_unconstrained(vector[start:start + size].reshape(template.shape),
                                                        tuple(p.shape))
        start += size
    return validate_theta(params, new)
