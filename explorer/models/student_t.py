"""Location and scale of a Student-t sample by EM, through its scale-mixture form.

x_i | u_i ~ N(μ, σ²/u_i) with u_i ~ Gamma(ν/2, rate ν/2) gives x_i ~ t_ν(μ, σ). The latent
precision weights u_i are what EM fills in: a point far from μ gets a small weight, which is
why the t fit is robust. With δ_i = ((x_i − μ)/σ)²:

    log p(x_i | θ)     = lnΓ((ν+1)/2) − lnΓ(ν/2) − ½ log(νπ) − log σ − (ν+1)/2 · log(1 + δ_i/ν)
    posterior          u_i | x_i ~ Gamma(a, b_i),  a = (ν+1)/2,  b_i = (ν + δ_i)/2

q gives each u_i a Gamma(a_i, b_i) (q is the pair of arrays); with E u_i = a_i/b_i and
E log u_i = ψ(a_i) − log b_i,

    E_q log p(x_i, u_i | θ) = −½ log 2π − log σ + ½ E log u_i − E u_i (x_i − μ)²/(2σ²)
                              + (ν/2) log(ν/2) − lnΓ(ν/2) + (ν/2 − 1) E log u_i − (ν/2) E u_i
    H(Gamma(a, b))          = a − log b + lnΓ(a) + (1 − a) ψ(a)

M step: μ = Σ E u_i x_i / Σ E u_i,  σ² = Σ E u_i (x_i − μ)² / n, and ν solves
log(ν/2) + 1 − ψ(ν/2) + mean(E log u − E u) = 0 (one dimension, bracketed; held at ν_max =
1000 with a warning when the data look normal). ν is frozen by default; ECM on (μ, σ) then ν is
Liu & Rubin's (1994) classic example.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import digamma, gammaln

from ..core.errors import ExplorerError
from ..core.model import Model, Param
from ..datasets import builtin_columns

LOG_2PI = np.log(2 * np.pi)
DF_MAX = 1000.0     # ν beyond this is a normal for every purpose here; the M step stops there


@dataclass(frozen=True)
class GammaQ:
    """q(u) = Π_i Gamma(u_i | shape_i, rate_i)."""
    shape: np.ndarray
    rate: np.ndarray

    def __post_init__(self):
        for array in (self.shape, self.rate):
            array.setflags(write=False)

    @property
    def mean(self) -> np.ndarray:
        return self.shape / self.rate

    @property
    def mean_log(self) -> np.ndarray:
        return digamma(self.shape) - np.log(self.rate)


class StudentT(Model):
    name = "student-t"
    title = "Student-t location and scale (scale mixture of normals)"
    datasets = {"zeamays": "Darwin's maize: height differences (inches), crossed − self-fertilised, "
                           "15 pairs (Fisher 1935; R HistData::ZeaMays)"}
    default_dataset = "zeamays"
    data_view = "histogram"
    latent_description = "the precision weight u_i of each point (small for outliers)"

    def params(self):
        return [Param("loc", (), "real", r"\mu"), Param("scale", (), "positive", r"\sigma"),
                Param("df", (), "positive", r"\nu", frozen_by_default=True)]

    # ----- data ----------------------------------------------------------------------------------
    @classmethod
    def load_dataset(cls, name, **options):
        if name != "zeamays":
            return super().load_dataset(name)
        return builtin_columns("zeamays.csv", "diff")

    @classmethod
    def data_from_table(cls, header, values, **options):
        if values.shape[1] != 1:
            raise ExplorerError(f"student-t data must have one numeric column, got {values.shape[1]} "
                                f"({', '.join(header)})")
        return values[:, 0]

    @classmethod
    def synthetic(cls, n, seed, separation=1.0, **options):
        """N points from t_ν(0, 1) with ν = 3 / separation: a larger separation, heavier tails."""
        if not separation > 0:
            raise ExplorerError(f"student-t: the separation must be positive, got {separation}")
        return np.random.default_rng(seed).standard_t(3.0 / separation, size=n)

    def validate_data(self, data):
        x = np.asarray(data, dtype=float)
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 1:
            raise ExplorerError(f"student-t data must be one column of numbers, got shape {list(x.shape)}")
        bad = np.flatnonzero(~np.isfinite(x))
        if len(bad):
            raise ExplorerError(f"student-t data row {bad[0] + 1} is not a finite number")
        if len(x) < 3:
            raise ExplorerError(f"student-t data needs at least 3 points, got {len(x)}")
        if np.ptp(x) == 0:
            raise ExplorerError("student-t data has a single distinct value: its scale would be 0")
        return x

    # ----- the contract ----------------------------------------------------------------------------
    def _delta(self, theta):
        return ((self.data - float(theta["loc"])) / float(theta["scale"])) ** 2

    def loglik(self, theta):
        nu, sigma = float(theta["df"]), float(theta["scale"])
        n = len(self.data)
        const = gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(nu * np.pi) - np.log(sigma)
        return float(n * const - (nu + 1) / 2 * np.sum(np.log1p(self._delta(theta) / nu)))

    def posterior(self, theta):
        nu = float(theta["df"])
        return GammaQ(np.full(len(self.data), (nu + 1) / 2), (nu + self._delta(theta)) / 2)

    def suff_stats(self, q, rows=slice(None)):
        """Σ E u, Σ E u·x, Σ E u·x², Σ E log u: E_q log p for any θ follows from these."""
        w, x = q.mean[rows], self.data[rows]
        return {"u": float(w.sum()), "ux": float(w @ x), "uxx": float(w @ (x * x)),
                "logu": float(q.mean_log[rows].sum()), "n": len(x)}

    def ecll_from_stats(self, theta, s):
        mu, sigma, nu = float(theta["loc"]), float(theta["scale"]), float(theta["df"])
        square = s["uxx"] - 2 * mu * s["ux"] + mu * mu * s["u"]
        return float(s["n"] * (-0.5 * LOG_2PI - np.log(sigma) + nu / 2 * np.log(nu / 2) - gammaln(nu / 2))
                     + (nu / 2 - 0.5) * s["logu"] - square / (2 * sigma * sigma) - nu / 2 * s["u"])

    def expected_complete_loglik(self, theta, q):
        return self.ecll_from_stats(theta, self.stats(q))

    def entropy(self, q):
        a, b = q.shape, q.rate
        return float(np.sum(a - np.log(b) + gammaln(a) + (1 - a) * digamma(a)))

    def m_step(self, q, theta, frozen=frozenset()):
        s = self.stats(q)
        mu = float(theta["loc"]) if "loc" in frozen else s["ux"] / s["u"]
        sigma = float(theta["scale"])
        if "scale" not in frozen:
            sigma = float(np.sqrt(max(s["uxx"] - 2 * mu * s["ux"] + mu * mu * s["u"], 0.0) / s["n"]))
        nu = float(theta["df"]) if "df" in frozen else self.best_df((s["logu"] - s["u"]) / s["n"])
        return {"loc": mu, "scale": sigma, "df": nu}

    @staticmethod
    def best_df(c: float) -> float:
        """The ν maximising n[(ν/2) log(ν/2) − lnΓ(ν/2)] + (ν/2)(Σ E log u − Σ E u), c the mean of
        E log u − E u: the root of log(ν/2) + 1 − ψ(ν/2) + c, which falls from +∞ as ν grows."""
        def slope(nu):
            return np.log(nu / 2) + 1 - digamma(nu / 2) + c
        if slope(DF_MAX) >= 0:
            return DF_MAX
        return float(brentq(slope, 1e-3, DF_MAX, xtol=1e-14, rtol=1e-15))

    def init_theta(self, rng):
        x = self.data
        spread = float(np.median(np.abs(x - np.median(x)))) or float(np.std(x))
        return {"loc": float(np.median(x)) + spread * rng.normal(scale=0.5),
                "scale": spread * float(np.exp(rng.normal(scale=0.3))), "df": 4.0}

    def simulate(self, theta, n, rng):
        return float(theta["loc"]) + float(theta["scale"]) * rng.standard_t(float(theta["df"]), size=n)

    def initial_q(self, theta):
        """The prior of the weights, u_i ~ Gamma(ν/2, ν/2): a q that has not looked at the data."""
        nu = float(theta["df"])
        return GammaQ(np.full(len(self.data), nu / 2), np.full(len(self.data), nu / 2))

    def random_q(self, rng):
        n = len(self.data)
        return GammaQ(np.exp(rng.normal(size=n)), np.exp(rng.normal(size=n)))

    def warnings(self, theta):
        if float(theta["df"]) >= DF_MAX:
            return [f"ν is held at {DF_MAX:g}: the weights say the data are as light-tailed as a normal"]
        return []

    def slice_range(self, theta, key):
        if key == "loc":
            return float(self.data.min()), float(self.data.max())
        if key == "df":
            return 0.3, 60.0
        return super().slice_range(theta, key)

    def component_density(self, theta, grid) -> np.ndarray:
        """(1, G): the t density on a grid (the histogram view draws it)."""
        from scipy.stats import t
        return t.pdf(np.asarray(grid, dtype=float), float(theta["df"]), float(theta["loc"]),
                     float(theta["scale"]))[None, :]
