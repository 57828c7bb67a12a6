"""A multivariate normal with values missing at random (Little & Rubin, ch. 8).

Row i has observed entries o and missing entries m (empty cells). The latent variables are the
missing entries; given θ = (μ, Σ) they are normal:

    x_m | x_o ~ N(μ_m + Σ_mo Σ_oo⁻¹ (x_o − μ_o),  Σ_mm − Σ_mo Σ_oo⁻¹ Σ_om)
    log p(X | θ) = Σ_i log N(x_i,o | μ_o, Σ_oo)                       (observed entries only)

q gives each row's missing entries a normal N(x̂_i,m, C_i) (q is the filled-in rows x̂_i, with
x̂_i,o = x_i,o, and the C_i, zero outside the missing block). With n rows and
S1 = Σ_i x̂_i, S2 = Σ_i (x̂_i x̂_iᵀ + C_i):

    E_q log p(X, Z | θ) = −n/2 (d log 2π + log|Σ|) − ½ tr(Σ⁻¹ (S2 − S1 μᵀ − μ S1ᵀ + n μ μᵀ))
    H(q)                = Σ_i ½ log det(2πe C_i)                   (over each row's missing block)
    M step              μ = S1 / n,  Σ = S2 / n − μ μᵀ

Rows are grouped by their pattern of missing cells, so each pattern's conditional is solved once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.constraints import floor_eigenvalues
from ..core.errors import ExplorerError
from ..core.model import Model, Param
from ..datasets import builtin_table

LOG_2PI = np.log(2 * np.pi)


EIGEN_FLOOR = 1e-12   # Σ's smallest eigenvalue over its largest, at least (constraints.CONDITION_LIMIT is 1e-13)


@dataclass(frozen=True)
class ImputedQ:
    """q(missing entries) = Π_i N(filled_i,m, cov_i,mm): the rows filled in, and their spread."""
    filled: np.ndarray   # (n, d): observed entries as they are, missing ones at q's means
    cov: np.ndarray      # (n, d, d): q's covariance of each row's missing block, 0 elsewhere

    def __post_init__(self):
        for array in (self.filled, self.cov):
            array.setflags(write=False)


class MVNMissing(Model):
    name = "mvn-missing"
    title = "Multivariate normal with missing values"
    datasets = {"airquality": "New York air quality, May–September 1973: Ozone, Solar.R, Wind, Temp; "
                              "37 Ozone and 7 Solar.R values missing (R datasets::airquality)"}
    default_dataset = "airquality"
    data_view = "imputed"
    accepts_missing = True
    latent_description = "the missing entries of each row"

    def params(self):
        d = self.d
        return [Param("mean", (d,), "real", r"\mu"), Param("covariance", (d, d), "covariance", r"\Sigma")]

    @property
    def d(self) -> int:
        return self.data.shape[1]

    # ----- data ----------------------------------------------------------------------------------
    @classmethod
    def load_dataset(cls, name, **options):
        if name != "airquality":
            return super().load_dataset(name)
        header, values = builtin_table("airquality.csv", missing_ok=True)
        return header, values

    @classmethod
    def data_from_table(cls, header, values, **options):
        return list(header), values

    @classmethod
    def synthetic(cls, n, seed, separation=1.0, **options):
        """N rows of a 3-variate normal with correlation separation/(1 + separation) between
        neighbours; column 1 goes missing more often where column 2 is high (missing at random:
        the chance depends on an observed value only), about 30% in all."""
        if not separation >= 0:
            raise ExplorerError(f"mvn-missing: the separation must be ≥ 0, got {separation}")
        rng = np.random.default_rng(seed)
        rho = separation / (1 + separation)
        cov = np.array([[1, rho, rho * rho], [rho, 1, rho], [rho * rho, rho, 1]])
        x = rng.multivariate_normal(np.zeros(3), cov, size=n)
        gone = rng.uniform(size=n) < 0.6 / (1 + np.exp(-2 * x[:, 1]))
        x[gone, 0] = np.nan
        return x

    def validate_data(self, data):
        """A table (n, d) with NaN for missing cells, or (column names, table)."""
        names = None
        if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], list):
            names, data = data
        x = np.array(data, dtype=float)
        if x.ndim != 2 or x.shape[1] < 2:
            raise ExplorerError(f"mvn-missing data must be a table of at least two columns, got shape {list(x.shape)}")
        if np.isinf(x).any():
            row, col = np.argwhere(np.isinf(x))[0]
            raise ExplorerError(f"mvn-missing data row {row + 1}, column {col + 1} is infinite "
                                f"(leave a cell empty for a missing value)")
        observed = ~np.isnan(x)
        empty = np.flatnonzero(~observed.any(axis=1))
        if len(empty):
            raise ExplorerError(f"mvn-missing data row {empty[0] + 1} has no observed value: it says nothing "
                                f"about θ (remove it)")
        d = x.shape[1]
        for j in range(d):
            if observed[:, j].sum() < 2:
                raise ExplorerError(f"mvn-missing data column {j + 1} has fewer than 2 observed values")
        if len(x) < d + 1:
            raise ExplorerError(f"mvn-missing data needs at least {d + 1} rows for a {d}×{d} covariance, got {len(x)}")
        self.observed = observed
        self.patterns = {}
        for i, row in enumerate(observed):
            self.patterns.setdefault(tuple(row), []).append(i)
        self.patterns = {key: np.array(rows) for key, rows in self.patterns.items()}
        if names is not None and len(names) == d:
            self.column_names = names
        elif getattr(self, "column_names", None) is None or len(self.column_names) != d:
            self.column_names = [f"x{j + 1}" for j in range(d)]
        return x

    # ----- the contract ----------------------------------------------------------------------------
    def _split(self, pattern):
        o = np.flatnonzero(pattern)
        m = np.flatnonzero(~np.array(pattern))
        return o, m

    def loglik(self, theta):
        mu, sigma = theta["mean"], theta["covariance"]
        total = 0.0
        for pattern, rows in self.patterns.items():
            o, _ = self._split(pattern)
            chol = np.linalg.cholesky(sigma[np.ix_(o, o)])
            z = np.linalg.solve(chol, (self.data[np.ix_(rows, o)] - mu[o]).T)
            total += float(-0.5 * len(rows) * (len(o) * LOG_2PI + 2 * np.log(np.diag(chol)).sum())
                           - 0.5 * np.sum(z * z))
        return total

    def posterior(self, theta):
        mu, sigma = theta["mean"], theta["covariance"]
        filled = self.data.copy()
        cov = np.zeros((len(self.data), self.d, self.d))
        for pattern, rows in self.patterns.items():
            o, m = self._split(pattern)
            if len(m) == 0:
                continue
            gain = np.linalg.solve(sigma[np.ix_(o, o)], sigma[np.ix_(o, m)]).T      # Σ_mo Σ_oo⁻¹
            filled[np.ix_(rows, m)] = mu[m] + (self.data[np.ix_(rows, o)] - mu[o]) @ gain.T
            block = sigma[np.ix_(m, m)] - gain @ sigma[np.ix_(o, m)]
            cov[np.ix_(rows, m, m)] = (block + block.T) / 2
        return ImputedQ(filled, cov)

    def suff_stats(self, q, rows=slice(None)):
        filled = q.filled[rows]
        return {"n": len(filled), "s1": filled.sum(axis=0), "s2": filled.T @ filled + q.cov[rows].sum(axis=0)}

    def ecll_from_stats(self, theta, s):
        mu, sigma = theta["mean"], theta["covariance"]
        n = s["n"]
        scatter = s["s2"] - np.outer(s["s1"], mu) - np.outer(mu, s["s1"]) + n * np.outer(mu, mu)
        _, logdet = np.linalg.slogdet(sigma)
        return float(-0.5 * n * (self.d * LOG_2PI + logdet) - 0.5 * np.trace(np.linalg.solve(sigma, scatter)))

    def expected_complete_loglik(self, theta, q):
        return self.ecll_from_stats(theta, self.stats(q))

    def entropy(self, q):
        total = 0.0
        for pattern, rows in self.patterns.items():
            _, m = self._split(pattern)
            if len(m) == 0:
                continue
            sign, logdet = np.linalg.slogdet(q.cov[np.ix_(rows, m, m)])
            if np.any(sign <= 0):
                return -np.inf
            total += float(np.sum(0.5 * (len(m) * (LOG_2PI + 1) + logdet)))
        return total

    def m_step(self, q, theta, frozen=frozenset()):
        s = self.stats(q)
        n = s["n"]
        mu = np.array(theta["mean"], dtype=float) if "mean" in frozen else s["s1"] / n
        sigma = theta["covariance"]
        if "covariance" not in frozen:
            sigma = (s["s2"] - np.outer(s["s1"], mu) - np.outer(mu, s["s1"]) + n * np.outer(mu, mu)) / n
            # collinear columns make Σ singular, off the covariance's space (`warnings` says so)
            sigma = floor_eigenvalues((sigma + sigma.T) / 2, EIGEN_FLOOR, relative=True)
        return {"mean": mu, "covariance": sigma}

    def warnings(self, theta):
        values = np.linalg.eigvalsh(theta["covariance"])
        if values[0] <= EIGEN_FLOOR * values[-1] * (1 + 1e-6):
            return [f"Σ held positive definite: its smallest eigenvalue raised to {EIGEN_FLOOR:g} × its largest "
                    f"(the columns are (nearly) collinear, so the M step's Σ is singular)"]
        return []

    def init_theta(self, rng):
        """Column means moved by noise, and the covariance of the complete rows (the diagonal of
        the column variances when there are too few of them to be positive definite)."""
        mean, std = np.nanmean(self.data, axis=0), np.nanstd(self.data, axis=0)
        complete = self.data[self.observed.all(axis=1)]
        cov = np.diag(std * std)
        if len(complete) > self.d:
            sample = np.cov(complete, rowvar=False, bias=True)
            if np.linalg.eigvalsh(sample).min() > 1e-9 * np.trace(sample):
                cov = sample
        return {"mean": mean + 0.3 * std * rng.normal(size=self.d), "covariance": cov}

    def simulate(self, theta, n, rng):
        x = rng.multivariate_normal(theta["mean"], theta["covariance"], size=n)
        gone = rng.uniform(size=x.shape) < (~self.observed).mean(axis=0)
        gone[gone.all(axis=1), 0] = False        # every row keeps an observed value
        x[gone] = np.nan
        return x

    def initial_q(self, theta):
        """Mean imputation: each row's missing entries at their marginal mean μ_m with the marginal
        spread Σ_mm, as if the row's observed values said nothing about them."""
        mu, sigma = theta["mean"], theta["covariance"]
        filled = np.where(self.observed, self.data, mu)
        cov = np.zeros((len(self.data), self.d, self.d))
        for pattern, rows in self.patterns.items():
            _, m = self._split(pattern)
            cov[np.ix_(rows, m, m)] = sigma[np.ix_(m, m)]
        return ImputedQ(filled, cov)

    def random_q(self, rng):
        std = np.nanstd(self.data, axis=0)
        filled = np.where(self.observed, self.data, np.nanmean(self.data, axis=0) + std * rng.normal(size=self.data.shape))
        cov = np.zeros((len(self.data), self.d, self.d))
        for pattern, rows in self.patterns.items():
            _, m = self._split(pattern)
            if len(m):
                a = rng.normal(size=(len(rows), len(m), len(m))) * std[m]
                cov[np.ix_(rows, m, m)] = a @ np.swapaxes(a, 1, 2) + np.diag(0.1 * std[m] ** 2)
        return ImputedQ(filled, cov)

    def slice_range(self, theta, key):
        name, index = key.split("[")[0], tuple(int(i) for i in key[key.index("[") + 1:-1].split(","))
        if name == "mean":
            column = self.data[:, index[0]]
            return float(np.nanmin(column)), float(np.nanmax(column))
        return super().slice_range(theta, key)

    # ----- the data view ---------------------------------------------------------------------------
    def imputed_points(self, q) -> dict:
        """The two columns with the most missing values, each row at q's means with ±1 sd bars on
        the entries q fills in (the "imputed" data view draws it)."""
        columns = np.argsort(-(~self.observed).sum(axis=0), kind="stable")[:2]
        a, b = int(columns[0]), int(columns[1])
        return {"names": (self.column_names[a], self.column_names[b]),
                "x": q.filled[:, a], "y": q.filled[:, b],
                "sx": np.sqrt(np.maximum(q.cov[:, a, a], 0)), "sy": np.sqrt(np.maximum(q.cov[:, b, b], 0)),
                "missing_x": ~self.observed[:, a], "missing_y": ~self.observed[:, b]}
