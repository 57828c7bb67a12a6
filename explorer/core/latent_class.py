"""Models whose latent variable is one of K classes per data point (mixtures and kin).

Such a model only writes `log_joint(θ)`, the (K, N) array of log p(x_i, z_i = k | θ); this
class derives the rest of the contract from it, with q a (K, N) array of q(z_i = k):

    log p(X | θ)          = Σ_i logsumexp_k log p(x_i, z_i = k | θ)
    p(z_i = k | x_i, θ)   = exp(log p(x_i, k | θ) − logsumexp_k' log p(x_i, k' | θ))
    E_q[log p(X, Z | θ)]  = Σ_ik q_ik log p(x_i, k | θ)       (terms with q_ik = 0 count 0)
    H(q)                  = −Σ_ik q_ik log q_ik                 (0 log 0 = 0)

The (K, N) layout keeps each class's row contiguous, so the loops over K (never over the data)
run at memory speed. Work is done once per θ and once per q, keyed by identity (θ and q are
immutable): the posterior and log p(x_i | θ) of the last θ, and the sufficient statistics of the
last q. A model that defines `suff_stats` and `ecll_from_stats` (all built-in mixtures do) gets
E_q[log p(X, Z | θ)] from them in O(K) once the statistics are known, so the M step and the two
values of F in an iteration share one pass over q.
"""
from __future__ import annotations

import numpy as np

from .model import Model

TINY = np.finfo(float).tiny
BLOCK = 16384   # data points per block of the per-point loops: small enough to stay in cache


def _blocks(n: int):
    return (slice(start, min(start + BLOCK, n)) for start in range(0, n, BLOCK))


class LatentClassModel(Model):
    latent_description = "z_i ∈ {1..K}, one class per data point"

    def __init__(self, data, **options):
        super().__init__(data, **options)
        self._theta_cache = None   # (θ, per-point log p(x_i | θ), posterior, log joint or None)

    def log_joint(self, theta, rows=slice(None)) -> np.ndarray:
        """(K, n): log p(x_i, z_i = k | θ) for the data points i in `rows` (a slice), as a new
        array the caller may overwrite. The core asks for blocks of rows, so that its per-point
        work stays in the processor's cache."""
        raise NotImplementedError

    def prior_weights(self, theta) -> np.ndarray:
        """p(z = k | θ), used as the starting q (a q that ignores the data)."""
        k = self.n_classes()
        return np.full(k, 1.0 / k)

    def n_classes(self) -> int:
        raise NotImplementedError

    def n_points(self) -> int:
        return len(self.data)

    @property
    def has_stats(self) -> bool:
        return type(self).ecll_from_stats is not Model.ecll_from_stats

    # ------------------------------------------------------------------------------------------
    def _evaluate(self, theta):
        """(per-point log p(x_i | θ), posterior, log joint or None), computed once per θ."""
        cached = getattr(self, "_theta_cache", None)
        if cached is not None and cached[0] is theta:
            return cached[1:]
        n = self.n_points()
        posterior, normaliser = np.empty((self.n_classes(), n)), np.empty(n)
        kept = None if self.has_stats else np.empty_like(posterior)   # for E_q log p without stats
        for rows in _blocks(n):          # blocks of points that stay in cache: one pass over memory
            block = self.log_joint(theta, rows)
            if kept is not None:
                kept[:, rows] = block
            top = block.max(axis=0)
            top[~np.isfinite(top)] = 0.0          # a point impossible under θ keeps log p = −∞
            block -= top
            np.exp(block, out=block)
            total = block.sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                normaliser[rows] = np.log(total) + top
                np.divide(block, total, out=posterior[:, rows])
        posterior.setflags(write=False)   # q is shared by states: immutable
        self._theta_cache = (theta, normaliser, posterior, kept)
        return normaliser, posterior, kept

    def posterior_block(self, theta, rows) -> np.ndarray:
        """(K, len(rows)): p(z_i | x_i, θ) for the points in `rows` only (incremental EM)."""
        block = self.log_joint(theta, rows)
        top = block.max(axis=0)
        top[~np.isfinite(top)] = 0.0
        block = np.exp(block - top)
        return block / block.sum(axis=0)

    def loglik(self, theta) -> float:
        return float(self._evaluate(theta)[0].sum())

    def pointwise_loglik(self, theta) -> np.ndarray:
        return self._evaluate(theta)[0]

    def posterior(self, theta) -> np.ndarray:
        return self._evaluate(theta)[1]

    def expected_complete_loglik(self, theta, q) -> float:
        if self.has_stats:
            return self.ecll_from_stats(theta, self.stats(q))
        joint = self._evaluate(theta)[2]
        total = float(np.einsum("kn,kn->", q, joint))
        if np.isnan(total):   # 0 · (−∞) where a class is impossible: such terms count 0
            with np.errstate(invalid="ignore"):
                total = float(np.sum(np.where(q > 0, q * joint, 0.0)))
        return total

    def joint_ecll(self, theta, q) -> float:
        """Σ_ik q_ik log p(x_i, k | θ) straight from the log joint (checks the statistics)."""
        joint = self.log_joint(theta)
        with np.errstate(invalid="ignore"):
            return float(np.sum(np.where(q > 0, q * joint, 0.0)))

    def entropy(self, q) -> float:
        """H(q) = −Σ q log q, with 0 log 0 = 0 (as scipy's xlogy, but faster on large q)."""
        total = 0.0
        for block in _blocks(np.shape(q)[-1]):
            part = q[..., block]
            log_q = np.maximum(part, TINY)     # where q = 0 the term is 0 · log(TINY) = 0
            np.log(log_q, out=log_q)
            total -= float(np.vdot(part, log_q))
        return total

    def initial_q(self, theta) -> np.ndarray:
        weights = self.prior_weights(theta)
        return np.repeat(weights[:, None], self.n_points(), axis=1)

    def random_q(self, rng) -> np.ndarray:
        return rng.dirichlet(np.ones(self.n_classes()), size=self.n_points()).T.copy()
