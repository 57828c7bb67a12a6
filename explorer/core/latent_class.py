"""Models whose latent variable is one of K classes per data point (mixtures and kin).

Such a model only writes `log_joint(θ)`, the (K, N) array of log p(x_i, z_i = k | θ); this
class derives the rest of the contract from it, with q a (K, N) array of q(z_i = k):

    log p(X | θ)          = Σ_i logsumexp_k log p(x_i, z_i = k | θ)
    p(z_i = k | x_i, θ)   = exp(log p(x_i, k | θ) − logsumexp_k' log p(x_i, k' | θ))
    E_q[log p(X, Z | θ)]  = Σ_ik q_ik log p(x_i, k | θ)       (terms with q_ik = 0 count 0)
    H(q)                  = −Σ_ik q_ik log q_ik                 (0 log 0 = 0)

The (K, N) layout keeps each class's row contiguous, so the loops over K (never over the data)
run at memory speed. The last log joint is cached by θ's identity (θ is immutable), so the
E step after an M step, and F after log p, reuse it instead of recomputing it.
"""
from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from .model import Model


class LatentClassModel(Model):
    latent_description = "z_i ∈ {1..K}, one class per data point"

    def __init__(self, data, **options):
        super().__init__(data, **options)
        self._cache = None  # (θ, log joint, per-point log normaliser)

    def log_joint(self, theta) -> np.ndarray:
        """(K, N): log p(x_i, z_i = k | θ)."""
        raise NotImplementedError

    def prior_weights(self, theta) -> np.ndarray:
        """p(z = k | θ), used as the starting q (a q that ignores the data)."""
        k = self.n_classes()
        return np.full(k, 1.0 / k)

    def n_classes(self) -> int:
        raise NotImplementedError

    def n_points(self) -> int:
        return len(self.data)

    # ------------------------------------------------------------------------------------------
    def _evaluate(self, theta):
        if self._cache is not None and self._cache[0] is theta:
            return self._cache[1], self._cache[2], self._cache[3]
        joint = self.log_joint(theta)
        top = joint.max(axis=0)
        finite_top = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled = np.exp(joint - finite_top)
            total = scaled.sum(axis=0)
            normaliser = finite_top + np.log(total)
            posterior = scaled / total
        self._cache = (theta, joint, normaliser, posterior)
        return joint, normaliser, posterior

    def loglik(self, theta) -> float:
        return float(self._evaluate(theta)[1].sum())

    def pointwise_loglik(self, theta) -> np.ndarray:
        return self._evaluate(theta)[1]

    def posterior(self, theta) -> np.ndarray:
        return self._evaluate(theta)[2].copy()

    def expected_complete_loglik(self, theta, q) -> float:
        joint = self._evaluate(theta)[0]
        with np.errstate(invalid="ignore"):
            terms = q * joint
        return float(np.sum(np.where(q > 0, terms, 0.0)))

    def entropy(self, q) -> float:
        return float(-xlogy(q, q).sum())

    def initial_q(self, theta) -> np.ndarray:
        weights = self.prior_weights(theta)
        return np.repeat(weights[:, None], self.n_points(), axis=1)

    def random_q(self, rng) -> np.ndarray:
        return rng.dirichlet(np.ones(self.n_classes()), size=self.n_points()).T.copy()
