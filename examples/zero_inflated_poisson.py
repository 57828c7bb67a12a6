"""The zero-inflated Poisson: a count is a structural zero with probability π, else Poisson(λ).

    p(x_i, z_i = zero | θ)    = π · [x_i = 0]
    p(x_i, z_i = poisson | θ) = (1 − π) · λ^x_i e^{−λ} / x_i!

    E step  r_i = q(z_i = zero) = π / (π + (1 − π) e^{−λ}) if x_i = 0, else 0
    M step  π = mean(r_i),   λ = Σ_i (1 − r_i) x_i / Σ_i (1 − r_i)

Explore it:   panel serve apps/explorer.py --args --model examples/zero_inflated_poisson.py:ZeroInflatedPoisson
Check it:     python -m explorer check examples/zero_inflated_poisson.py:ZeroInflatedPoisson
"""
import numpy as np
from scipy.special import gammaln

from explorer import ExplorerError, LatentClassModel, Param


class ZeroInflatedPoisson(LatentClassModel):
    name = "zip"
    title = "Zero-inflated Poisson"
    datasets = {"counts": "500 counts simulated with π = 0.3, λ = 2.5 (seed 0)"}
    default_dataset = "counts"

    def params(self):
        return [Param("pi", (), "unit", r"\pi"), Param("lam", (), "positive", r"\lambda")]

    @classmethod
    def load_dataset(cls, name, **options):
        return cls.synthetic(500, 0)

    @classmethod
    def synthetic(cls, n, seed, separation=2.5, **options):
        rng = np.random.default_rng(seed)
        return np.where(rng.uniform(size=n) < 0.3, 0, rng.poisson(separation, n)).astype(float)

    def validate_data(self, data):
        x = np.asarray(data, dtype=float).reshape(-1)
        if len(x) < 2 or np.any(~np.isfinite(x)) or np.any(x < 0) or np.any(x != np.round(x)):
            raise ExplorerError("zip data must be at least 2 non-negative whole numbers")
        return x

    def n_classes(self):
        return 2

    def prior_weights(self, theta):
        return np.array([float(theta["pi"]), 1 - float(theta["pi"])])

    def log_joint(self, theta, rows=slice(None)):
        x = self.data[rows]
        pi, lam = float(theta["pi"]), float(theta["lam"])
        with np.errstate(divide="ignore"):
            zero = np.where(x == 0, np.log(pi), -np.inf)
            poisson = np.log1p(-pi) + x * np.log(lam) - lam - gammaln(x + 1)
        return np.array([zero, poisson])

    def m_step(self, q, theta, frozen=frozenset()):
        r = q[0]
        new = dict(theta)
        if "pi" not in frozen:
            new["pi"] = r.mean()
        if "lam" not in frozen:
            new["lam"] = max(((1 - r) @ self.data) / (1 - r).sum(), 1e-12)
        return new

    def init_theta(self, rng):
        return {"pi": rng.uniform(0.1, 0.6), "lam": max(self.data.mean(), 0.5) * rng.uniform(0.8, 1.5)}

    def simulate(self, theta, n, rng):
        zero = rng.uniform(size=n) < float(theta["pi"])
        return np.where(zero, 0, rng.poisson(float(theta["lam"]), n)).astype(float)

    def random_q(self, rng):
        q = super().random_q(rng)
        q[0, self.data > 0] = 0.0   # a positive count cannot be a structural zero
        q[1] = 1 - q[0]
        return q
