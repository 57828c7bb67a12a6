"""Models with a continuous latent vector z_i ∈ R^d per data point, a Gaussian prior and a
linear-Gaussian likelihood (factor analysis, the two-source model, ...).

For such a model log p(x_i, z_i | θ) = −½ z_iᵀ Λ z_i + b_iᵀ z_i + const in z_i, with a precision
Λ(θ) shared by all points. So the exact posterior is Gaussian,

    p(z_i | x_i, θ) = N(m_i, S),   S = Λ⁻¹,   m_i = S b_i,

and q is stored in that form: `GaussianQ(mean (N, d), cov (d, d))`, one covariance for all points.
Its entropy is H(q) = (N/2) [d log(2πe) + log det S].

The mean-field family q(z_i) = Π_j q(z_ij) is the same form with a diagonal covariance. Its
coordinate ascent (Bishop §10.1.2) is Gauss–Seidel on Λ m_i = b_i:

    q(z_ij) = N(m_ij, 1/Λ_jj),   m_ij ← (b_ij − Σ_{l≠j} Λ_jl m_il) / Λ_jj   for j = 1..d in turn,

which converges to the exact posterior means with variances 1/Λ_jj ≤ S_jj: the factorised q is
too narrow wherever the posterior is correlated, and its KL gap cannot close.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import Model, required

LOG_2PI_E = np.log(2 * np.pi * np.e)


@dataclass(frozen=True)
class GaussianQ:
    mean: np.ndarray   # (N, d)
    cov: np.ndarray    # (d, d), shared by all points

    def __post_init__(self):
        self.mean.setflags(write=False)
        self.cov.setflags(write=False)


def gaussian_q(mean, cov) -> GaussianQ:
    return GaussianQ(np.array(mean, dtype=float), np.array(cov, dtype=float))


def gaussian_entropy(n: int, cov):
    """H(q) = (N/2) [d log(2πe) + log det S] of N points' Gaussians with covariance S (one S, or a stack)."""
    return 0.5 * n * (cov.shape[-1] * LOG_2PI_E + np.linalg.slogdet(cov)[1])


def posterior_moments(precision, linear) -> tuple[np.ndarray, np.ndarray]:
    """(means m_i = S b_i, S = Λ⁻¹ symmetrised) of the posterior with precision Λ and linear
    terms b_i: for one θ, or for a stack of them along the leading axes (a landscape's grid)."""
    cov = np.linalg.inv(precision)
    cov = (cov + np.swapaxes(cov, -1, -2)) / 2
    return linear @ cov, cov


class GaussianLatentModel(Model):
    latent_description = "a latent Gaussian vector z_i per data point"

    @property
    def data_view(self) -> str:
        """One point's posterior against q as ellipses, when z has two or more dimensions."""
        return "latent-gaussian" if self.latent_dim() >= 2 else "theta"

    @required
    def latent_dim(self) -> int:
        """d, the dimension of each z_i"""
        raise NotImplementedError

    @required
    def posterior_precision(self, theta) -> np.ndarray:
        """(d, d): Λ(θ), the posterior precision of every z_i."""
        raise NotImplementedError

    @required
    def posterior_linear(self, theta) -> np.ndarray:
        """(N, d): b_i(θ), so that the posterior mean is Λ⁻¹ b_i."""
        raise NotImplementedError

    def n_points(self) -> int:
        return len(self.data)

    def posterior(self, theta) -> GaussianQ:
        return gaussian_q(*posterior_moments(self.posterior_precision(theta), self.posterior_linear(theta)))

    def entropy(self, q: GaussianQ) -> float:
        return float(gaussian_entropy(self.n_points(), q.cov))

    def initial_q(self, theta) -> GaussianQ:
        d = self.latent_dim()
        return gaussian_q(np.zeros((self.n_points(), d)), np.eye(d))   # the prior: ignores the data

    def random_q(self, rng) -> GaussianQ:
        d = self.latent_dim()
        a = rng.normal(size=(d, d))
        return gaussian_q(rng.normal(size=(self.n_points(), d)), a @ a.T + 0.1 * np.eye(d))

    def mean_field(self, theta, q: GaussianQ, max_sweeps: int | None, tol: float = 1e-12):
        """Coordinate ascent for q(z_i) = Π_j q(z_ij), from q's means; returns (q, sweeps).
        max_sweeps=None runs to convergence (means change by at most tol, relatively)."""
        precision = self.posterior_precision(theta)
        linear = self.posterior_linear(theta)
        diagonal = np.diag(precision)
        mean = np.array(q.mean, dtype=float) if q.mean.shape == linear.shape else np.zeros_like(linear)
        limit = 10_000 if max_sweeps is None else max_sweeps
        sweeps = 0
        while sweeps < limit:
            before = mean.copy()
            for j in range(len(diagonal)):
                others = mean @ precision[j] - mean[:, j] * precision[j, j]
                mean[:, j] = (linear[:, j] - others) / diagonal[j]
            sweeps += 1
            if max_sweeps is None and np.max(np.abs(mean - before)) <= tol * (1 + np.max(np.abs(mean))):
                break
        return gaussian_q(mean, np.diag(1 / diagonal)), sweeps
