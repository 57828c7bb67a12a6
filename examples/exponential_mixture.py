"""A mixture of K exponential distributions, with closed-form E and M steps.

    p(x_i, z_i = k | θ) = w_k λ_k exp(−λ_k x_i),   x_i ≥ 0

    E step  r_ik = p(z_i = k | x_i, θ)            (done by LatentClassModel from log_joint)
    M step  w_k = N_k / N,   λ_k = N_k / Σ_i r_ik x_i,   N_k = Σ_i r_ik

Explore it:   panel serve apps/explorer.py --args --model examples/exponential_mixture.py:ExponentialMixture
Check it:     python -m explorer check examples/exponential_mixture.py:ExponentialMixture
"""
import numpy as np

from explorer import ExplorerError, LatentClassModel, Option, Param


class ExponentialMixture(LatentClassModel):
    name = "exponential-mixture"
    title = "Mixture of exponentials"
    option_specs = (Option("K", 2, 1, 6, "number of components"),)
    datasets = {"waits": "400 waiting times simulated from rates 1 and 0.1 (seed 0)"}
    default_dataset = "waits"

    def params(self):
        K = self.options["K"]
        return [Param("weights", (K,), "simplex", r"w"), Param("rates", (K,), "positive", r"\lambda")]

    @classmethod
    def load_dataset(cls, name, **options):
        return cls.synthetic(400, 0)

    @classmethod
    def synthetic(cls, n, seed, separation=10.0, **options):
        rng = np.random.default_rng(seed)
        fast = rng.uniform(size=n) < 0.6
        return np.where(fast, rng.exponential(1.0, n), rng.exponential(separation, n))

    def validate_data(self, data):
        x = np.asarray(data, dtype=float).reshape(-1)
        if len(x) < 2 * self.options["K"] or np.any(~np.isfinite(x)) or np.any(x < 0):
            raise ExplorerError("exponential-mixture data must be at least 2K non-negative numbers")
        return x

    def n_classes(self):
        return self.options["K"]

    def prior_weights(self, theta):
        return theta["weights"]

    def log_joint(self, theta, rows=slice(None)):
        x = self.data[rows]
        rates = theta["rates"][:, None]
        return np.log(theta["weights"])[:, None] + np.log(rates) - rates * x[None, :]

    def m_step(self, q, theta, frozen=frozenset()):
        counts = q.sum(axis=1)
        new = dict(theta)
        if "weights" not in frozen:
            new["weights"] = counts / counts.sum()
        if "rates" not in frozen:
            new["rates"] = counts / np.maximum(q @ self.data, 1e-300)
        return new

    def init_theta(self, rng):
        K = self.options["K"]
        return {"weights": np.full(K, 1 / K), "rates": np.sort(rng.uniform(0.5, 2.0, K)) / self.data.mean()}

    def simulate(self, theta, n, rng):
        labels = rng.choice(len(theta["weights"]), size=n, p=theta["weights"])
        return rng.exponential(1 / theta["rates"][labels])
