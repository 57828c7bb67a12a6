"""Factor analysis: x_i = W z_i + μ + ε_i, z_i ~ N(0, I_k), ε_i ~ N(0, Ψ), Ψ diagonal.

    log p(X | θ) = Σ_i log N(x_i; μ, W Wᵀ + Ψ)

Posterior of z_i: precision Λ = I + Wᵀ Ψ⁻¹ W, linear term b_i = Wᵀ Ψ⁻¹ (x_i − μ). For a q with
means m_i and covariance S, with r_i = x_i − μ,

    E_q log p(X, Z | θ) = Σ_i [−(k/2) log 2π − ½(|m_i|² + tr S)]
                        + Σ_i [−(p/2) log 2π − ½ Σ_j log ψ_j − ½ ((r_i − W m_i)ᵀ Ψ⁻¹ (r_i − W m_i) + tr(Wᵀ Ψ⁻¹ W S))]

A landscape needs it for every pair of a grid of θ and a grid of q, so it is computed from
statistics of q, about the data's mean x̄ (c_i = x_i − x̄, d = x̄ − μ, so r_i − W m_i = c_i + d − W m_i):

    Σ_i (r_ij − (W m_i)_j)² + n (W S Wᵀ)_jj = Σ_i c_ij² + 2 d_j Σ_i c_ij + n d_j² − 2 Σ_l W_jl (Cᵀ M)_jl
                                             − 2 d_j (W Σ_i m_i)_j + (W (Mᵀ M + n S) Wᵀ)_jj

so each θ costs O(p k²), not a pass over the data (`ecll_grid`).

M step (Ghahramani & Hinton 1996), with E[z̃_i] = (m_i, 1) and E[z̃_i z̃_iᵀ] = [[S + m_i m_iᵀ, m_i], [m_iᵀ, 1]]:
[W μ] = (Σ_i x_i E[z̃_i]ᵀ)(Σ_i E[z̃_i z̃_iᵀ])⁻¹ jointly (or either one given the other when one is
frozen), then ψ_j = mean_i of the j-th diagonal entry of (r_i − W m_i)(r_i − W m_i)ᵀ + W S Wᵀ,
held at or above 1e-6 × the column's variance (with a warning).

The mean-field family q(z_i) = Π_j q(z_ij) cannot represent posterior correlation between the
factors. Its gap is smallest when Λ = I + Wᵀ Ψ⁻¹ W is diagonal, so variational EM pulls W toward
columns that are orthogonal in the Ψ⁻¹ metric: the known bias of factorised variational EM.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import ExplorerError
from ..core.gaussian_latent import GaussianLatentModel, gaussian_entropy, posterior_moments
from ..core.latent_class import GRID_CELLS
from ..core.model import Option, Param
from ..datasets import builtin_table

LOG_2PI = np.log(2 * np.pi)
FLOOR = 1e-6


class FactorAnalysis(GaussianLatentModel):
    name = "factor-analysis"
    title = "Factor analysis"
    option_specs = (Option("k", 2, 1, 5, "number of latent factors"),)
    datasets = {"wine": "13 chemical constituents of 178 Italian wines (Forina et al. 1988; UCI 'Wine')"}
    default_dataset = "wine"
    latent_description = "the k factors z_i behind each observation"

    @property
    def k(self) -> int:
        return self.options["k"]

    def params(self):
        p = self.data.shape[1]
        return [Param("W", (p, self.k), "real", r"W"),
                Param("mu", (p,), "real", r"\mu"),
                Param("psi", (p,), "positive", r"\psi")]

    @classmethod
    def load_dataset(cls, name, **options):
        if name != "wine":
            return super().load_dataset(name)
        return builtin_table("wine.csv")[1]    # the 13 numeric columns (the cultivar is dropped)

    @classmethod
    def data_from_table(cls, header, values, **options):
        if values.shape[1] < 2:
            raise ExplorerError("factor-analysis data needs at least two numeric columns")
        return values

    @classmethod
    def synthetic(cls, n, seed, separation=1.0, k=2, **options):
        """N points in 5 dimensions from k factors; `separation` scales the loadings against a
        unit noise."""
        rng = np.random.default_rng(seed)
        k = cls.parse_options({"k": k})["k"]
        loadings = separation * np.random.default_rng(1000 + k).normal(size=(5, k))
        return rng.normal(size=(n, k)) @ loadings.T + rng.normal(scale=0.5, size=(n, 5))

    def validate_data(self, data):
        x = np.asarray(data, dtype=float)
        if x.ndim != 2 or x.shape[1] < 2:
            raise ExplorerError(f"factor-analysis data must be a table with at least 2 columns, got shape {list(x.shape)}")
        bad = np.argwhere(~np.isfinite(x))
        if len(bad):
            raise ExplorerError(f"factor-analysis data row {bad[0][0] + 1} is not a finite number")
        if self.k >= x.shape[1]:
            raise ExplorerError(f"factor-analysis with k={self.k} needs more than {self.k} columns, got {x.shape[1]}")
        if len(x) <= x.shape[1]:
            raise ExplorerError(f"factor-analysis needs more rows than columns, got {len(x)} rows")
        if np.any(x.var(axis=0) == 0):
            raise ExplorerError("factor-analysis data has a constant column")
        self.floor = FLOOR * x.var(axis=0)
        self.center = x.mean(axis=0)                     # x̄, and of C (rows c_i = x_i − x̄): Σ_i c_ij, Σ_i c_ij²
        centred = x - self.center
        self.centred_sum, self.centred_squares = centred.sum(axis=0), np.sum(centred ** 2, axis=0)
        # [Uᵀ, Σ_i c_i] with U the R factor of C = Q U (so Uᵀ U = Cᵀ C): what log p needs of the data
        self.data_columns = np.column_stack([np.linalg.qr(centred, mode="r").T, self.centred_sum])
        return x

    def latent_dim(self):
        return self.k

    def posterior_precision(self, theta):
        return self._precision(theta["W"], theta["psi"])

    def posterior_linear(self, theta):
        return self._linear(theta["W"], theta["mu"], theta["psi"])

    def loglik(self, theta):
        return float(self._loglik(theta["W"], theta["mu"], theta["psi"]))

    # The formulas for one θ, or for a stack of them along the leading axes (a landscape's grid).
    def _precision(self, W, psi):
        """Λ = I + Wᵀ Ψ⁻¹ W"""
        return np.eye(self.k) + np.swapaxes(W, -1, -2) @ (W / psi[..., None])

    def _linear(self, W, mu, psi):
        """b_i = Wᵀ Ψ⁻¹ (x_i − μ), as rows (N, k)"""
        return (self.data - mu[..., None, :]) @ (W / psi[..., None])

    def _loglik(self, W, mu, psi):
        """Σ_i log N(x_i; μ, Σ) with Σ = W Wᵀ + Ψ = L Lᵀ. With d = x̄ − μ, c_i = x_i − x̄ and the data's
        R factor U (`data_columns`), Σ_i (x_i − μ)ᵀ Σ⁻¹ (x_i − μ) = ‖L⁻¹ Uᵀ‖² + 2 (L⁻¹ Σ_i c_i)·(L⁻¹ d)
        + n ‖L⁻¹ d‖²: p + 2 columns solved per θ, not the N points (as accurate: Q is orthogonal)."""
        n, p = self.data.shape
        chol = np.linalg.cholesky(W @ np.swapaxes(W, -1, -2) + psi[..., None] * np.eye(p))
        d = self.center - mu
        columns = np.broadcast_to(self.data_columns, d.shape[:-1] + self.data_columns.shape)
        solved = np.linalg.solve(chol, np.concatenate([columns, d[..., None]], axis=-1))
        data, centred_sum, shift = solved[..., :p], solved[..., p], solved[..., p + 1]
        squares = (np.sum(data * data, axis=(-2, -1)) + 2 * np.sum(centred_sum * shift, axis=-1)
                   + n * np.sum(shift * shift, axis=-1))
        logdet = 2 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
        return -0.5 * (n * (p * LOG_2PI + logdet) + squares)

    def grid_passes(self, thetas):
        """`Model.grid_passes` with the grid's θ stacked, so each formula is one numpy call for the
        whole grid instead of one per θ (a grid too large for one array takes one pass per θ)."""
        n, p = self.data.shape
        if len(thetas) * n * p > GRID_CELLS:
            return super().grid_passes(thetas)
        W, mu, psi = (np.array([t[name] for t in thetas], dtype=float) for name in ("W", "mu", "psi"))
        loglik = self._loglik(W, mu, psi)
        means, covs = posterior_moments(self._precision(W, psi), self._linear(W, mu, psi))
        stats = self._stats(means, covs)
        entropy = gaussian_entropy(n, covs)
        return [(float(loglik[g]), {name: value[g] for name, value in stats.items()}, float(entropy[g]))
                for g in range(len(thetas))]

    def expected_complete_loglik(self, theta, q):
        return float(self.ecll_grid([theta], [self.stats(q)])[0, 0])

    def suff_stats(self, q, rows=slice(None)):
        return self._stats(q.mean, q.cov)

    def _stats(self, m, cov):
        """What E_q log p needs of q (see the module's docstring): Cᵀ M, Σ_i m_i, Mᵀ M + n S and
        the prior's term −½ (n k log 2π + Σ_i |m_i|² + n tr S); for one q or a stack of them."""
        n = self.n_points()
        return {"cm": (self.data - self.center).T @ m, "m_sum": m.sum(axis=-2), "second": np.swapaxes(m, -1, -2) @ m + n * cov,
                "prior": -0.5 * (n * self.k * LOG_2PI + np.sum(m * m, axis=(-2, -1))
                                 + n * np.trace(cov, axis1=-2, axis2=-1))}

    def ecll_from_stats(self, theta, stats):
        return float(self._ecll(theta["W"], theta["mu"], theta["psi"], stats["cm"], stats["m_sum"],
                                stats["second"], stats["prior"]))

    def ecll_grid(self, thetas, stats):
        """E_q log p(X, Z | θ) for every (stats, θ) pair at once: θ stacked along axis 1 and the
        statistics along axis 0, broadcast to (S, T)."""
        W, mu, psi = (np.array([t[name] for t in thetas], dtype=float)[None] for name in ("W", "mu", "psi"))
        cm, m_sum, second, prior = (np.array([s[name] for s in stats])[:, None]
                                    for name in ("cm", "m_sum", "second", "prior"))
        return self._ecll(W, mu, psi, cm, m_sum, second, prior)

    def _ecll(self, W, mu, psi, cm, m_sum, second, prior):
        """E_q log p(X, Z | θ) from q's statistics (the module's docstring), for one pair or for
        arrays of them along the leading axes (broadcast)."""
        n, p = self.data.shape
        d = self.center - mu                                                       # x̄ − μ
        squares = (self.centred_squares + 2 * d * self.centred_sum + n * d * d
                   - 2 * np.einsum("...jl,...jl->...j", W, cm) - 2 * d * np.einsum("...jl,...l->...j", W, m_sum)
                   + np.einsum("...jl,...lm,...jm->...j", W, second, W))
        return prior - 0.5 * (n * (p * LOG_2PI + np.sum(np.log(psi), axis=-1)) + np.sum(squares / psi, axis=-1))

    def m_step(self, q, theta, frozen=frozenset()):
        x, m, n = self.data, q.mean, self.n_points()
        second = n * q.cov + m.T @ m                     # Σ_i E[z_i z_iᵀ]
        W, mu = np.array(theta["W"], dtype=float), np.array(theta["mu"], dtype=float)
        if "W" not in frozen and "mu" not in frozen:
            z_sum = m.sum(axis=0)
            moment = np.block([[second, z_sum[:, None]], [z_sum[None, :], np.array([[n]])]])
            joint = np.linalg.solve(moment, np.hstack([m, np.ones((n, 1))]).T @ x).T
            W, mu = joint[:, :-1], joint[:, -1]
        elif "W" not in frozen:
            W = np.linalg.solve(second, m.T @ (x - mu)).T
        elif "mu" not in frozen:
            mu = (x - m @ W.T).mean(axis=0)
        psi = np.array(theta["psi"], dtype=float)
        if "psi" not in frozen:
            residual = x - mu - m @ W.T
            psi = np.mean(residual * residual, axis=0) + np.einsum("jk,kl,jl->j", W, q.cov, W)
            psi = np.maximum(psi, self.floor)
        return {"W": W, "mu": mu, "psi": psi}

    def init_theta(self, rng):
        scale = np.sqrt(self.data.var(axis=0))
        return {"W": rng.normal(scale=0.5, size=(self.data.shape[1], self.k)) * scale[:, None],
                "mu": self.data.mean(axis=0), "psi": 0.5 * self.data.var(axis=0)}

    def simulate(self, theta, n, rng):
        p = self.data.shape[1]
        return (rng.normal(size=(n, self.k)) @ theta["W"].T + theta["mu"]
                + rng.normal(size=(n, p)) * np.sqrt(theta["psi"]))

    def warnings(self, theta):
        return [f"psi[{j}] held at its floor {f:.3g} (a Heywood case: column {j + 1} is explained without noise)"
                for j, (v, f) in enumerate(zip(theta["psi"], self.floor)) if v <= f]

    def column_cosines(self, theta) -> np.ndarray:
        """(k, k) cosines between W's columns in the Ψ⁻¹ metric: the mean-field bias drives the
        off-diagonal ones toward 0."""
        gram = theta["W"].T @ (theta["W"] / theta["psi"][:, None])
        norms = np.sqrt(np.diag(gram))
        return gram / np.outer(norms, norms)
