"""K-component two-dimensional Gaussian mixture with full covariances.

With d = x_i − μ_k and Σ_k = [[a, b], [b, c]], det = ac − b²:

    log p(x_i, z_i = k | θ) = log w_k − log(2π) − ½ log det − (c d₁² − 2b d₁d₂ + a d₂²) / (2 det)

M step: w_k = N_k / N, μ_k = Σ_i q_ik x_i / N_k, Σ_k = Σ_i q_ik d dᵀ / N_k with every eigenvalue
held at or above the floor (see gaussian_mixture.py).

The M step and F on a landscape grid use the sufficient statistics of q about the data's mean c:
with e_i = x_i − c and m_k = μ_k − c, N_k = Σ_i q_ik, S1_k = Σ_i q_ik e_i, S2_k = Σ_i q_ik e_i e_iᵀ,

    Σ_i q_ik (x_i − μ_k)(x_i − μ_k)ᵀ = S2_k − m_k S1_kᵀ − S1_k m_kᵀ + N_k m_k m_kᵀ.
"""
from __future__ import annotations

import numpy as np

from ..core.constraints import floor_eigenvalues
from ..core.errors import ExplorerError
from ..core.latent_class import FUSED_BLOCK, normalise
from ..core.model import Param, parse_key
from ..datasets import builtin_columns, two_columns
from .gaussian_mixture import EMPTY, VARIANCE_FLOOR, GaussianMixture

LOG_2PI = np.log(2 * np.pi)


class GMM2D(GaussianMixture):
    name = "gmm2d"
    title = "2-D Gaussian mixture (full covariances)"
    datasets = {"faithful": "Old Faithful: eruptions and waiting (min), 272 (R datasets::faithful)"}
    default_dataset = "faithful"
    data_view = "scatter"
    takes_chunks = True

    def params(self):
        return [Param("weights", (self.K,), "simplex", r"w"),
                Param("means", (self.K, 2), "real", r"\mu"),
                Param("covariances", (self.K, 2, 2), "covariance", r"\Sigma")]

    @classmethod
    def load_dataset(cls, name, **options):
        if name != "faithful":
            return super().load_dataset(name)
        return builtin_columns("faithful.csv", "eruptions", "waiting")

    @classmethod
    def data_from_table(cls, header, values, **options):
        return two_columns("gmm2d", header, values)

    @classmethod
    def synthetic(cls, n, seed, separation=3.0, K=2, **options):
        """N points from K unit-covariance components on a circle of radius `separation`."""
        rng = np.random.default_rng(seed)
        K = cls.parse_options({"K": K})["K"]
        labels = rng.integers(K, size=n)
        angles = 2 * np.pi * np.arange(K) / K
        centres = separation * np.column_stack([np.cos(angles), np.sin(angles)])
        return centres[labels] + rng.normal(size=(n, 2))

    def validate_data(self, data):
        x = np.asarray(data, dtype=float)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ExplorerError(f"gmm2d data must have two columns, got shape {list(x.shape)}")
        bad = np.argwhere(~np.isfinite(x))
        if len(bad):
            raise ExplorerError(f"gmm2d data row {bad[0][0] + 1} is not a finite number")
        self.check_enough_points(len(x))
        if np.any(np.ptp(x, axis=0) == 0):
            raise ExplorerError("gmm2d data has a column with a single distinct value")
        spread = np.cov(x, rowvar=False)
        if np.linalg.det(spread) <= 1e-12 * np.prod(np.diag(spread)):     # correlation ±1 to 12 digits
            raise ExplorerError("the data's two columns are collinear (every point lies on one line): the "
                                "covariance of the data is singular, so no 2-D Gaussian component fits them; "
                                "use data whose points spread in two directions")
        self.center = x.mean(axis=0)
        self.floor = VARIANCE_FLOOR * float(x.var(axis=0).min())
        return self.prepare_points(x)

    def prepare_points(self, x):
        """The per-point arrays of data x (also for a chunk of data past memory, `for_chunk`):
        its two columns, contiguous; the statistics' moments are made a block at a time."""
        self.columns = (np.ascontiguousarray(x[:, 0]), np.ascontiguousarray(x[:, 1]))
        return x

    n_moments = 6

    def moments_of(self, rows, out):
        """(6, n) into `out` (row 0 already 1): 1, e₁, e₂, e₁², e₁e₂, e₂² with e_i = x_i − c."""
        np.subtract(self.columns[0][rows], self.center[0], out=out[1])
        np.subtract(self.columns[1][rows], self.center[1], out=out[2])
        np.square(out[1], out=out[3])
        np.multiply(out[1], out[2], out=out[4])
        np.square(out[2], out=out[5])
        return out

    def class_constants(self, theta):
        """Per class k, what its log joint needs, computed once per θ: (c_k, μ_k1, μ_k2, b/a,
        √(½/a), √(½a/det)) with c_k = log w_k − log 2π − ½ log det. Completing the square,

            (c d₁² − 2b d₁d₂ + a d₂²) / (2 det) = d₁² / (2a) + (d₂ − (b/a) d₁)² · a / (2 det)."""
        out = []
        for k in range(self.K):
            (a, b), (_, c) = theta["covariances"][k]
            det = a * c - b * b
            with np.errstate(divide="ignore"):
                const = np.log(theta["weights"][k]) - LOG_2PI - 0.5 * np.log(det)
            out.append((const, theta["means"][k, 0], theta["means"][k, 1], b / a, np.sqrt(0.5 / a), np.sqrt(0.5 * a / det)))
        return out

    def log_joint(self, theta, rows=slice(None)):
        return self.joint_from_constants(self.class_constants(theta), rows)

    def joint_from_constants(self, constants, rows, out=None, work=None):
        """log p(x_i, k | θ) for the rows, from `class_constants` (into `out`, (K, n), if given;
        `work`, (2, ≥ n), is scratch)."""
        x0, x1 = self.columns[0][rows], self.columns[1][rows]
        n = len(x0)
        out = np.empty((self.K, n)) if out is None else out
        d1, t = np.empty((2, n)) if work is None else work[:, :n]
        for k, (const, m0, m1, ratio, s1, s2) in enumerate(constants):
            row = out[k]
            np.subtract(x0, m0, out=d1)
            np.subtract(x1, m1, out=row)
            row -= np.multiply(d1, ratio, out=t)   # d₂ − (b/a) d₁
            row *= s2
            np.square(row, out=row)
            d1 *= s1
            np.square(d1, out=d1)
            row += d1
            np.subtract(const, row, out=row)
        return out

    def fused_pass(self, theta):
        """The generic fused pass with θ's constants computed once and the blocks' arrays reused."""
        constants = self.class_constants(theta)
        size = min(FUSED_BLOCK, self.n_points())
        joint_work, work, moment_work = np.empty((self.K, size)), np.empty((2, size)), self.moment_work()

        def block(rows, out):
            joint = self.joint_from_constants(constants, rows, joint_work[:, :out.shape[1]], work)
            loglik, entropy = normalise(joint, out)
            return loglik, entropy, self.raw_stats(out, rows, moment_work)
        return block, self.stats_of

    def stats_of(self, raw):
        """The statistics from `raw_stats`' columns N_k, S1_k (2), S2_k's entries 00, 01, 11."""
        s00, s01, s11 = raw[:, 3], raw[:, 4], raw[:, 5]
        return {"count": raw[:, 0], "s1": raw[:, 1:3],
                "s2": np.stack([np.stack([s00, s01], -1), np.stack([s01, s11], -1)], -2)}

    def scatter(self, k, mean, stats):
        """Σ_i q_ik (x_i − μ)(x_i − μ)ᵀ from the sufficient statistics."""
        m, s1 = mean - self.center, stats["s1"][k]
        return stats["s2"][k] - np.outer(m, s1) - np.outer(s1, m) + stats["count"][k] * np.outer(m, m)

    def ecll_from_stats(self, theta, stats):
        count = stats["count"]
        total = 0.0
        for k in range(self.K):
            if count[k] <= 0:
                continue
            scatter = self.scatter(k, theta["means"][k], stats)
            cov = theta["covariances"][k]
            _, logdet = np.linalg.slogdet(cov)
            with np.errstate(divide="ignore"):
                total += count[k] * (np.log(theta["weights"][k]) - LOG_2PI - 0.5 * logdet)
            total -= 0.5 * float(np.sum(np.linalg.inv(cov) * scatter))
        return float(total)

    def ecll_grid(self, thetas, stats):
        """ecll_from_stats for every (stats, θ) pair at once: arrays (S, T, K, ...) by broadcasting.
        Σ_i q_ik (x_i−μ)ᵀΣ⁻¹(x_i−μ) = tr(Σ⁻¹ S2) − 2 mᵀΣ⁻¹ s1 + N mᵀΣ⁻¹m with m = μ − centre."""
        w = np.array([t["weights"] for t in thetas])[None]                    # (1, T, K)
        m = np.array([t["means"] for t in thetas])[None] - self.center        # (1, T, K, 2)
        cov = np.array([t["covariances"] for t in thetas])                     # (T, K, 2, 2)
        inv, logdet = np.linalg.inv(cov)[None], np.linalg.slogdet(cov)[1][None]
        count = np.array([s["count"] for s in stats])[:, None]                 # (S, 1, K)
        s1 = np.array([s["s1"] for s in stats])[:, None]                       # (S, 1, K, 2)
        s2 = np.array([s["s2"] for s in stats])[:, None]                       # (S, 1, K, 2, 2)
        inv_m = np.einsum("...ab,...b->...a", inv, m)
        quad = (np.einsum("...ab,...ab->...", inv, s2) - 2 * np.einsum("...a,...a->...", inv_m, s1)
                + count * np.einsum("...a,...a->...", inv_m, m))
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = count * (np.log(w) - LOG_2PI - 0.5 * logdet) - 0.5 * quad
        return np.sum(np.where(count > 0, terms, 0.0), axis=-1)

    def m_step(self, q, theta, frozen=frozenset()):
        stats = self.stats(q)
        counts = stats["count"]
        means = np.array(theta["means"], dtype=float)
        covs = np.array(theta["covariances"], dtype=float)
        for k in range(self.K):
            if counts[k] <= EMPTY:
                continue  # an empty component keeps its mean and covariance (its weight is 0)
            if "means" not in frozen:
                means[k] = self.center + stats["s1"][k] / counts[k]
            if "covariances" not in frozen:
                covs[k] = floor_eigenvalues(self.scatter(k, means[k], stats) / counts[k], self.floor)
        return {"weights": self.new_weights(counts, theta, frozen), "means": means, "covariances": covs}

    def init_theta(self, rng):
        return {"weights": np.full(self.K, 1.0 / self.K),
                "means": self.random_points(rng),
                "covariances": np.repeat(np.cov(self.data.T, bias=True)[None], self.K, axis=0)}

    def simulate(self, theta, n, rng):
        labels = rng.choice(self.K, size=n, p=theta["weights"])
        chol = np.linalg.cholesky(theta["covariances"])
        return theta["means"][labels] + np.einsum("nij,nj->ni", chol[labels], rng.normal(size=(n, 2)))

    def smallest_variances(self, theta):
        return np.linalg.eigvalsh(theta["covariances"]).min(axis=1)

    def slice_range(self, theta, key):
        name, index = parse_key(key)
        if name == "means":
            column = self.data[:, index[-1]]
            return float(column.min()), float(column.max())
        if name == "covariances" and index[-1] != index[-2]:
            cov = theta["covariances"][index[0]]
            limit = 0.98 * np.sqrt(cov[0, 0] * cov[1, 1])
            return float(-limit), float(limit)
        return super().slice_range(theta, key)

    def component_shapes(self, theta):
        """(means, covariances) of the components, for the scatter view's ellipses."""
        return theta["means"], theta["covariances"]
