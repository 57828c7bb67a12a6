"""K-component one-dimensional Gaussian mixture.

    log p(x_i, z_i = k | θ) = log w_k − ½ log(2π σ²_k) − (x_i − μ_k)² / (2σ²_k)

M step, with N_k = Σ_i q_ik:  w_k = N_k / N,  μ_k = Σ_i q_ik x_i / N_k,
σ²_k = max(floor, Σ_i q_ik (x_i − μ_k)² / N_k)  (see gaussian_mixture.py for the floor).

Both the M step and F on a landscape grid use the sufficient statistics of q about the data's
mean c (centring keeps the sums well conditioned): with d_i = x_i − c and m_k = μ_k − c,

    N_k = Σ_i q_ik,  S1_k = Σ_i q_ik d_i,  S2_k = Σ_i q_ik d_i²,
    Σ_i q_ik (x_i − μ_k)² = S2_k − 2 m_k S1_k + m_k² N_k.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import ExplorerError
from ..core.latent_class import FUSED_BLOCK, normalise, serial_dot, sum_of_logs
from ..core.model import Param, parse_key
from ..datasets import builtin_columns
from .gaussian_mixture import EMPTY, VARIANCE_FLOOR, GaussianMixture

LOG_2PI = np.log(2 * np.pi)


class GMM1D(GaussianMixture):
    name = "gmm1d"
    title = "1-D Gaussian mixture"
    datasets = {
        "galaxies": "velocities (km/s) of 82 galaxies, Roeder 1990 (R MASS::galaxies)",
        "faithful-eruptions": "Old Faithful eruption durations (min), 272 (R datasets::faithful)",
        "faithful-waiting": "Old Faithful waiting times (min), 272 (R datasets::faithful)",
    }
    default_dataset = "faithful-waiting"
    data_view = "histogram"
    takes_chunks = True
    entry_freezing = ("weights", "means", "variances")

    def params(self):
        k = (self.K,)
        return [Param("weights", k, "simplex", r"w"),
                Param("means", k, "real", r"\mu"),
                Param("variances", k, "positive", r"\sigma^2")]

    @classmethod
    def load_dataset(cls, name, **options):
        columns = {"galaxies": ("galaxies.csv", "velocity"),
                   "faithful-eruptions": ("faithful.csv", "eruptions"),
                   "faithful-waiting": ("faithful.csv", "waiting")}
        if name not in columns:
            return super().load_dataset(name)
        filename, column = columns[name]
        return builtin_columns(filename, column)

    @classmethod
    def data_from_table(cls, header, values, **options):
        if values.shape[1] != 1:
            raise ExplorerError(f"gmm1d data must have one numeric column, got {values.shape[1]} "
                                f"({', '.join(header)})")
        return values[:, 0]

    @classmethod
    def synthetic(cls, n, seed, separation=3.0, K=2, **options):
        """N points from K unit-variance components whose means are `separation` apart."""
        rng = np.random.default_rng(seed)
        K = cls.parse_options({"K": K})["K"]
        labels = rng.integers(K, size=n)
        return rng.normal(separation * labels, 1.0)

    def validate_data(self, data):
        x = np.asarray(data, dtype=float)
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 1:
            raise ExplorerError(f"gmm1d data must be one column of numbers, got shape {list(x.shape)}")
        if not np.all(np.isfinite(x)):
            raise ExplorerError(f"gmm1d data row {int(np.argmax(~np.isfinite(x))) + 1} is not a finite number")
        self.check_enough_points(len(x))
        if np.ptp(x) == 0:
            raise ExplorerError("gmm1d data has a single distinct value: a mixture cannot be fitted")
        self.center = float(x.mean())
        self.floor = VARIANCE_FLOOR * float(x.var())
        return self.prepare_points(x)

    def prepare_points(self, x):
        """The per-point arrays of data x (also for a chunk of data past memory, `for_chunk`):
        x itself; the statistics' moments are made a block at a time (`moments_of`)."""
        return x

    n_moments = 3

    def moments_of(self, rows, out):
        """(3, n) into `out` (row 0 already 1): 1, d_i, d_i² with d_i = x_i − c."""
        np.subtract(self.data[rows], self.center, out=out[1])
        np.square(out[1], out=out[2])
        return out

    def log_joint(self, theta, rows=slice(None)):
        x = self.data[rows]
        out = np.empty((self.K, len(x)))
        for k in range(self.K):
            w, mu, var = theta["weights"][k], theta["means"][k], theta["variances"][k]
            with np.errstate(divide="ignore"):
                const = np.log(w) - 0.5 * (LOG_2PI + np.log(var))
            row = out[k]
            np.subtract(x, mu, out=row)
            np.square(row, out=row)
            row *= -0.5 / var
            row += const
        return out

    def stats_of(self, raw):
        """The statistics from `raw_stats`' columns N_k, S1_k, S2_k."""
        return {"count": raw[:, 0], "s1": raw[:, 1], "s2": raw[:, 2]}

    def fused_pass(self, theta):
        """With K = 2, the pass of `two_class_block`; otherwise the generic fused pass."""
        if self.K != 2:
            return super().fused_pass(theta)
        return self.two_class_block(theta), self.stats_of

    def two_class_block(self, theta):
        """The one pass for K = 2 with one exp and one reciprocal per point. With
        a_ik = (x_i − μ_k)² / (2σ²_k) − c_k = −log p(x_i, k | θ), c_k = log w_k − ½ log(2πσ²_k),
        and d_i = log p(x_i, 1) − log p(x_i, 2) = a_i2 − a_i1:

            q_i1 = 1 / (1 + e^{−d_i}),   q_i2 = e^{−d_i} q_i1,
            log p(x_i | θ) = −min_k a_ik + log t_i,   H(q_i) = log t_i + min_k q_ik · |d_i|,
            with t_i = 1 + e^{−|d_i|} = 1 / max_k q_ik

        (`normalise`'s formulas for two classes). A block where e^{−d} would overflow (a
        point more than 700 nats likelier under the second class) takes the generic pass."""
        weights, means, variances = theta["weights"], theta["means"], theta["variances"]
        with np.errstate(divide="ignore"):
            const = np.log(weights) - 0.5 * (LOG_2PI + np.log(variances))
        if not np.all(np.isfinite(const)):
            return super().fused_pass(theta)[0]      # an empty component: the generic pass
        scale = np.sqrt(0.5 / variances)
        work = np.empty((3, min(FUSED_BLOCK, self.n_points())))
        moment_work = self.moment_work()

        def block(rows, out):
            x = self.data[rows]
            a1, a2, tmp = work[:, :len(x)]
            for k, a in enumerate((a1, a2)):
                np.subtract(x, means[k], out=a)
                a *= scale[k]
                np.square(a, out=a)
                a -= const[k]
            top = -float(np.minimum(a1, a2, out=tmp).sum())
            neg_d = np.subtract(a1, a2, out=a1)
            if neg_d.max() > 700.0:
                loglik, entropy = normalise(self.log_joint(theta, rows), out)
                return loglik, entropy, self.raw_stats(out, rows, moment_work)
            q1, q2 = out
            np.exp(neg_d, out=tmp)
            np.add(tmp, 1.0, out=q1)
            np.reciprocal(q1, out=q1)
            np.multiply(tmp, q1, out=q2)
            log_t = -sum_of_logs(np.maximum(q1, q2, out=tmp), 2)
            np.minimum(q1, q2, out=tmp)
            np.abs(neg_d, out=neg_d)
            return top + log_t, log_t + serial_dot(tmp, neg_d), self.raw_stats(out, rows, moment_work)
        return block

    def scatter(self, means, stats):
        """Σ_i q_ik (x_i − μ_k)² from the sufficient statistics."""
        m = means - self.center
        return stats["s2"] - 2 * m * stats["s1"] + m * m * stats["count"]

    def ecll_from_stats(self, theta, stats):
        w, var = theta["weights"], theta["variances"]
        count = stats["count"]
        square = self.scatter(theta["means"], stats)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = count * (np.log(w) - 0.5 * (LOG_2PI + np.log(var))) - 0.5 * square / var
        return float(np.sum(np.where(count > 0, terms, 0.0)))

    def ecll_grid(self, thetas, stats):
        """ecll_from_stats for every (stats, θ) pair at once: arrays (S, T, K) by broadcasting."""
        w, mu, var = (np.array([t[name] for t in thetas])[None] for name in ("weights", "means", "variances"))
        count, s1, s2 = (np.array([s[name] for s in stats])[:, None] for name in ("count", "s1", "s2"))
        m = mu - self.center
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = count * (np.log(w) - 0.5 * (LOG_2PI + np.log(var))) - 0.5 * (s2 - 2 * m * s1 + m * m * count) / var
        return np.sum(np.where(count > 0, terms, 0.0), axis=-1)

    def m_step(self, q, theta, frozen=frozenset()):
        stats = self.stats(q)
        counts = stats["count"]
        full = counts > EMPTY   # an empty component keeps its mean and variance (its weight is 0)
        means = np.array(theta["means"], dtype=float)
        free = full & ~np.array([self.held(frozen, "means", k) for k in range(self.K)])
        means[free] = self.center + stats["s1"][free] / counts[free]
        variances = np.array(theta["variances"], dtype=float)
        free = full & ~np.array([self.held(frozen, "variances", k) for k in range(self.K)])
        variances[free] = np.maximum(self.floor, self.scatter(means, stats)[free] / counts[free])
        return {"weights": self.new_weights(counts, theta, frozen), "means": means, "variances": variances}

    def em_many(self, starts: list, frozen, max_iterations: int, tol: float):
        """EM from many starts at once (a basins map): the same E and M steps as `m_step`,
        with the starts stacked along a first axis; a start stops when its log p moves by at
        most `tol` in an iteration. Returns (final θ of each start, its log p)."""
        w, mu, var = (np.array([t[name] for t in starts], dtype=float) for name in ("weights", "means", "variances"))
        d = self.data - self.center
        m = mu - self.center
        loglik = np.full(len(starts), -np.inf)
        active = np.arange(len(starts))
        for _ in range(max_iterations):
            wa, ma, va = w[active], m[active], var[active]
            with np.errstate(divide="ignore"):
                joint = (np.log(wa) - 0.5 * (LOG_2PI + np.log(va)))[:, :, None] \
                    - 0.5 * (d[None, None, :] - ma[:, :, None]) ** 2 / va[:, :, None]      # (S, K, N)
            top = joint.max(axis=1, keepdims=True)
            resp = np.exp(joint - top)
            total = resp.sum(axis=1, keepdims=True)
            now = (np.log(total) + top).sum(axis=(1, 2))
            moving = np.abs(now - loglik[active]) > tol
            loglik[active] = now
            resp /= total
            counts, s1, s2 = resp.sum(axis=2), resp @ d, resp @ (d * d)
            full = counts > EMPTY
            if "weights" not in frozen:
                wa = counts / counts.sum(axis=1, keepdims=True)
            if "means" not in frozen:
                ma = np.where(full, s1 / np.where(full, counts, 1.0), ma)
            if "variances" not in frozen:
                scatter = s2 - 2 * ma * s1 + ma * ma * counts
                va = np.where(full, np.maximum(self.floor, scatter / np.where(full, counts, 1.0)), va)
            keep = active[moving]                      # the converged keep the θ at which log p stopped
            w[keep], m[keep], var[keep] = wa[moving], ma[moving], va[moving]
            active = keep
            if len(active) == 0:
                break
        thetas = [self.theta({"weights": w[i], "means": m[i] + self.center, "variances": var[i]})
                  for i in range(len(starts))]
        return thetas, [float(v) for v in loglik]

    def init_theta(self, rng):
        return {"weights": np.full(self.K, 1.0 / self.K),
                "means": np.sort(self.random_points(rng)),
                "variances": np.full(self.K, self.data.var())}

    def simulate(self, theta, n, rng):
        labels = rng.choice(self.K, size=n, p=theta["weights"])
        return rng.normal(theta["means"][labels], np.sqrt(theta["variances"][labels]))

    def slice_range(self, theta, key):
        name, _ = parse_key(key)
        if name == "means":
            lo, hi = self.data.min(), self.data.max()
            return float(lo), float(hi)
        return super().slice_range(theta, key)

    def component_density(self, theta, grid) -> np.ndarray:
        """(K, G): w_k N(grid | μ_k, σ²_k), the weighted component densities on a grid."""
        grid = np.asarray(grid, dtype=float)
        var = theta["variances"][:, None]
        return theta["weights"][:, None] * np.exp(
            -0.5 * (grid[None, :] - theta["means"][:, None]) ** 2 / var) / np.sqrt(2 * np.pi * var)
