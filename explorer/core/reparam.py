"""An unconstrained parametrisation of θ, for gradient steps.

Each free parameter block maps to unconstrained reals u:

    real        u = θ
    positive    u = log θ
    unit        u = logit θ = log θ − log(1 − θ)
    simplex     u = log w (the softmax of u gives w back; the extra degree of freedom is harmless)
    covariance  u = the lower triangle of L, with log on its diagonal, where Σ = L Lᵀ (Cholesky)

`flatten` gives the vector of the free blocks, `unflatten` a validated θ from such a vector.
"""
from __future__ import annotations

import numpy as np

from .model import Param, validate_theta

EDGE = 1e-12   # unit and simplex values are kept this far inside their range


def to_unconstrained(p: Param, value: np.ndarray) -> np.ndarray:
    a = np.asarray(value, dtype=float)
    if p.constraint == "real":
        return a.copy()
    if p.constraint == "positive":
        return np.log(a)
    if p.constraint == "unit":
        inner = np.clip(a, EDGE, 1 - EDGE)
        return np.log(inner) - np.log1p(-inner)
    if p.constraint == "simplex":
        return np.log(np.maximum(a, EDGE))
    chol = np.linalg.cholesky(a)
    d = a.shape[-1]
    rows, cols = np.tril_indices(d)
    out = chol[..., rows, cols].copy()
    diagonal = rows == cols
    out[..., diagonal] = np.log(out[..., diagonal])
    return out


def from_unconstrained(p: Param, u: np.ndarray) -> np.ndarray:
    if p.constraint == "real":
        return u
    if p.constraint == "positive":
        return np.exp(u)
    if p.constraint == "unit":
        return 1 / (1 + np.exp(-u))
    if p.constraint == "simplex":
        e = np.exp(u - u.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    d = p.shape[-1]
    rows, cols = np.tril_indices(d)
    chol = np.zeros(p.shape)
    values = u.copy()
    diagonal = rows == cols
    values[..., diagonal] = np.exp(values[..., diagonal])
    chol[..., rows, cols] = values
    cov = chol @ np.swapaxes(chol, -1, -2)
    return (cov + np.swapaxes(cov, -1, -2)) / 2


def flatten(params: list[Param], theta: dict, free: list[str]) -> np.ndarray:
    by_name = {p.name: p for p in params}
    parts = [to_unconstrained(by_name[name], theta[name]).reshape(-1) for name in free]
    return np.concatenate(parts) if parts else np.zeros(0)


def unflatten(params: list[Param], theta: dict, free: list[str], vector: np.ndarray) -> dict:
    by_name = {p.name: p for p in params}
    new, start = dict(theta), 0
    for name in free:
        p = by_name[name]
        template = to_unconstrained(p, theta[name])
        size = template.size
        new[name] = from_unconstrained(p, vector[start:start + size].reshape(template.shape))
        start += size
    return validate_theta(params, new)
