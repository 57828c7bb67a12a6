"""Two sources and one sum: where mean-field variational EM is biased (a standard example).

x_i1, x_i2 ~ N(0, 1) independent, y_i = x_i1 + x_i2 + ε_i with ε_i ~ N(0, s); θ = s = noise_var.

    log p(y | s) = Σ_i log N(y_i; 0, 2 + s),  so the ML estimate is ŝ = max(mean(y²) − 2, 0).

The posterior of (x_i1, x_i2) has precision Λ = I + 11ᵀ/s and linear term b_i = y_i 1/s:
covariance S = I − 11ᵀ/(s + 2) (correlation −1/(1 + s)), mean m_i = y_i 1/(s + 2). With
r_i = y_i − m_i1 − m_i2 and any Gaussian q of that form,

    E_q log p(y, x | s) = Σ_i [−log 2π − ½(|m_i|² + tr S) − ½ log(2πs) − (r_i² + 1ᵀS1) / (2s)]

and the M step is s' = mean(r_i²) + 1ᵀS1.

Mean-field q(x_i1) q(x_i2): its fixed point has means m_i1 = m_i2 = y_i/(s + 2) (the exact ones)
and variances 1/Λ_jj = s/(s + 1), so it leaves a KL gap per point of

    KL = ½ log[(1 + s)² / (s(s + 2))]      (whatever y_i is; it shrinks as s grows)

Variational EM with it. With m = mean(y²), the M step after the mean-field E step is
s' = m (s/(s + 2))² + 2s/(s + 1). A fixed point s' = s > 0 satisfies
1 = m s/(s + 2)² + 2/(s + 1); multiplying by (s + 2)²(s + 1) and collecting terms,

    s³ + (3 − m) s² − m s − 4 = 0.

At s = m − 2 (the ML estimate) the left side equals −2m < 0, and it tends to +∞, so its
positive root lies above the ML estimate: the factorised family overestimates the noise,
because a larger s makes the true posterior less correlated and the gap smaller.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import ExplorerError
from ..core.gaussian_latent import GaussianLatentModel
from ..core.model import Param

LOG_2PI = np.log(2 * np.pi)
FLOOR = 1e-8   # s is held at or above FLOOR × var(y), with a warning


class TwoSource(GaussianLatentModel):
    name = "two-source"
    title = "Two sources, one sum (mean-field bias)"
    datasets = {"sim-s1": "200 points simulated with s = 1 (seed 0)",
                "m3": "the same 200 points scaled so that mean y² = 3 exactly: the MLE is s = 1"}
    default_dataset = "sim-s1"
    latent_description = "the two sources (x_i1, x_i2) behind each y_i"

    def params(self):
        return [Param("noise_var", (), "positive", r"s")]

    @classmethod
    def load_dataset(cls, name, **options):
        if name not in cls.datasets:
            return super().load_dataset(name)
        y = cls.synthetic(200, 0, separation=1.0)
        return y if name == "sim-s1" else y * np.sqrt(3.0 / np.mean(y * y))

    @classmethod
    def data_from_table(cls, header, values, **options):
        if values.shape[1] != 1:
            raise ExplorerError(f"two-source data must have one column y, got {values.shape[1]} columns")
        return values[:, 0]

    @classmethod
    def synthetic(cls, n, seed, separation=1.0, **options):
        """N values of y simulated with noise variance s = separation."""
        rng = np.random.default_rng(seed)
        s = max(float(separation), 1e-3)
        return rng.normal(size=(n, 2)).sum(axis=1) + rng.normal(scale=np.sqrt(s), size=n)

    def validate_data(self, data):
        y = np.asarray(data, dtype=float).reshape(-1)
        if not np.all(np.isfinite(y)):
            raise ExplorerError(f"two-source data row {int(np.argmax(~np.isfinite(y))) + 1} is not a finite number")
        if len(y) < 2:
            raise ExplorerError(f"two-source data needs at least 2 values, got {len(y)}")
        self.floor = FLOOR * max(float(y.var()), 1e-12)
        return y

    def latent_dim(self):
        return 2

    def posterior_precision(self, theta):
        s = float(theta["noise_var"])
        return np.eye(2) + np.ones((2, 2)) / s

    def posterior_linear(self, theta):
        s = float(theta["noise_var"])
        return np.repeat(self.data[:, None] / s, 2, axis=1)

    def loglik(self, theta):
        total = 2 + float(theta["noise_var"])
        y = self.data
        return float(-0.5 * np.sum(LOG_2PI + np.log(total) + y * y / total))

    def _residual_terms(self, q):
        residual = self.data - q.mean.sum(axis=1)
        return float(np.sum(residual * residual)), float(q.cov.sum())

    def expected_complete_loglik(self, theta, q):
        return float(self.ecll_grid([theta], [q])[0, 0])

    def ecll_grid(self, thetas, stats):
        """E_q log p(X, Z | θ) for every (q, θ) pair (`stats` are the q's): the terms of q are
        summed once per q, then each θ costs O(1), so a landscape's grid reads q 50 times, not 2,500."""
        s, n = np.array([float(theta["noise_var"]) for theta in thetas]), self.n_points()
        rows = []
        for q in stats:
            squares, spread = self._residual_terms(q)
            prior = -n * LOG_2PI - 0.5 * (np.sum(q.mean * q.mean) + n * np.trace(q.cov))
            rows.append(prior - 0.5 * n * (LOG_2PI + np.log(s)) - (squares + n * spread) / (2 * s))
        return np.array(rows)

    def m_step(self, q, theta, frozen=frozenset()):
        if "noise_var" in frozen:
            return dict(theta)
        squares, spread = self._residual_terms(q)
        return {"noise_var": max(self.floor, squares / self.n_points() + spread)}

    def init_theta(self, rng):
        return {"noise_var": rng.uniform(0.3, 4.0)}

    def simulate(self, theta, n, rng):
        s = float(theta["noise_var"])
        return rng.normal(size=(n, 2)).sum(axis=1) + rng.normal(scale=np.sqrt(s), size=n)

    def warnings(self, theta):
        if float(theta["noise_var"]) <= self.floor:
            return [f"noise_var held at its floor {self.floor:.3g}: mean(y²) ≤ 2, so the ML estimate is 0"]
        return []

    # ----- closed forms (the tests check the iterations against them) -----------------------------
    def ml_estimate(self) -> float:
        return max(float(np.mean(self.data ** 2)) - 2.0, 0.0)

    def mean_field_fixed_point(self) -> float:
        """The positive root of s³ + (3 − m) s² − m s − 4 = 0, m = mean(y²)."""
        m = float(np.mean(self.data ** 2))
        roots = np.roots([1.0, 3.0 - m, -m, -4.0])
        real = roots[np.abs(roots.imag) < 1e-9].real
        return float(real[real > 0].max())

    @staticmethod
    def mean_field_gap_per_point(s: float) -> float:
        return 0.5 * float(np.log((1 + s) ** 2 / (s * (s + 2))))
