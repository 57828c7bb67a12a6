"""A mixture of K linear regressions: each point (x_i, y_i) lies near one of K lines.

    log p(y_i, z_i = k | x_i, θ) = log w_k − ½ log(2π σ²_k) − (y_i − a_k − b_k x_i)² / (2σ²_k)

θ: the lines' coefficients (a_k, b_k), their noise variances σ²_k and the weights w_k; the x's
are given (the model is of y given x). Sufficient statistics of q, about the data's means
(x̃ = x − x̄, ỹ = y − ȳ, which keeps the sums well conditioned): N_k = Σ_i q_ik and the weighted
sums S_x, S_y, S_xx, S_xy, S_yy of x̃, ỹ, x̃², x̃ỹ, ỹ². With c_k = a_k + b_k x̄ − ȳ, the weighted
residual sum of squares is

    R_k = Σ_i q_ik (y_i − a_k − b_k x_i)² = S_yy − 2c S_y − 2b S_xy + c² N + 2cb S_x + b² S_xx.

The M step is a weighted least-squares line per component, [N S_x; S_x S_xx] (c, b) = (S_y, S_xy),
then σ²_k = R_k / N_k, w_k = N_k / N. The parameter blocks are ordered coefficients, variances,
weights, so ECM (Meng & Rubin 1993) maximises the coefficients with the variances held, then
the variances at the new coefficients, then the weights: each a conditional maximisation, and
a real block schedule (after the coefficients' step the variances are still the old ones).

A line through too few points has a variance going to 0 and a likelihood going to +∞, so every
σ²_k is held at or above 1e-6 of the variance of y, with a warning (as the Gaussian mixtures).

Data: ethanol engine runs (Brinkman 1981), NOx against the equivalence ratio E, the classic
two-line example; or synthetic lines that cross.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import ExplorerError
from ..core.model import Option, Param, parse_key
from ..core.sketch import Layer, Sketch
from ..datasets import builtin_columns, two_columns
from .gaussian_mixture import EMPTY, VARIANCE_FLOOR, GaussianMixture   # the mixtures' K and weights

LOG_2PI = np.log(2 * np.pi)


class RegressionMixture(GaussianMixture):
    name = "regression-mixture"
    title = "Mixture of linear regressions"
    option_specs = (Option("K", 2, 1, 8, "number of lines"),)
    latent_description = "which line each point follows"
    datasets = {"ethanol": "NOx (µg/J) against the equivalence ratio E of 88 ethanol engine runs, "
                           "Brinkman 1981 (R lattice::ethanol)"}
    default_dataset = "ethanol"
    data_view = "sketch"

    def params(self):
        return [Param("coefficients", (self.K, 2), "real", r"(a, b)"),
                Param("variances", (self.K,), "positive", r"\sigma^2"),
                Param("weights", (self.K,), "simplex", r"w")]

    # ----- data -----------------------------------------------------------------------------------
    @classmethod
    def load_dataset(cls, name, **options):
        if name != "ethanol":
            return super().load_dataset(name)
        return builtin_columns("ethanol.csv", "E", "NOx")

    @classmethod
    def data_from_table(cls, header, values, **options):
        return two_columns("regression-mixture", header, values, "x then y")

    @classmethod
    def synthetic(cls, n, seed, separation=3.0, K=2, **options):
        """x uniform on [−2, 2]; K lines through (0, 0) with slopes `separation` apart; noise sd 0.5."""
        rng = np.random.default_rng(seed)
        K = cls.parse_options({"K": K})["K"]
        labels = rng.integers(K, size=n)
        x = rng.uniform(-2.0, 2.0, n)
        slopes = separation * (np.arange(K) - (K - 1) / 2)
        return np.column_stack([x, slopes[labels] * x + rng.normal(0.0, 0.5, n)])

    def validate_data(self, data):
        d = np.asarray(data, dtype=float)
        if d.ndim != 2 or d.shape[1] != 2:
            raise ExplorerError(f"regression-mixture data must be two columns (x, y), got shape {list(d.shape)}")
        if not np.all(np.isfinite(d)):
            raise ExplorerError(f"regression-mixture data row {int(np.argmax(~np.isfinite(d).all(axis=1))) + 1} "
                                f"is not finite")
        self.check_enough_points(len(d))
        if np.ptp(d[:, 0]) == 0 or np.ptp(d[:, 1]) == 0:
            raise ExplorerError("regression-mixture data need more than one distinct x and y: no line can be fitted")
        self.x_mean, self.y_mean = float(d[:, 0].mean()), float(d[:, 1].mean())
        self.floor = VARIANCE_FLOOR * float(d[:, 1].var())
        centred = d - (self.x_mean, self.y_mean)
        self._moments = np.column_stack([centred, centred ** 2, centred[:, 0] * centred[:, 1]])  # x̃ ỹ x̃² ỹ² x̃ỹ
        return d

    # ----- the contract, from log_joint ------------------------------------------------------------
    def log_joint(self, theta, rows=slice(None)):
        x, y = self.data[rows, 0], self.data[rows, 1]
        a, b = theta["coefficients"][:, :1], theta["coefficients"][:, 1:]
        var = theta["variances"][:, None]
        with np.errstate(divide="ignore"):
            const = np.log(theta["weights"])[:, None] - 0.5 * (LOG_2PI + np.log(var))
        return const - 0.5 * (y - a - b * x) ** 2 / var

    def suff_stats(self, q, rows=slice(None)):
        m = q @ self._moments[rows]
        return {"count": q.sum(axis=1), "x": m[:, 0], "y": m[:, 1], "xx": m[:, 2], "yy": m[:, 3], "xy": m[:, 4]}

    def centred(self, coefficients):
        """(c, b): each line's intercept at x̄ less ȳ, and its slope."""
        a, b = np.asarray(coefficients, dtype=float).T
        return a + b * self.x_mean - self.y_mean, b

    def residuals(self, coefficients, s):
        """R_k = Σ_i q_ik (y_i − a_k − b_k x_i)², from the statistics."""
        c, b = self.centred(coefficients)
        return s["yy"] - 2 * c * s["y"] - 2 * b * s["xy"] + c * c * s["count"] + 2 * c * b * s["x"] + b * b * s["xx"]

    def ecll_from_stats(self, theta, stats):
        count, var = stats["count"], theta["variances"]
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = (count * (np.log(theta["weights"]) - 0.5 * (LOG_2PI + np.log(var)))
                     - 0.5 * self.residuals(theta["coefficients"], stats) / var)
        return float(np.sum(np.where(count > 0, terms, 0.0)))

    def m_step(self, q, theta, frozen=frozenset()):
        s = self.stats(q)
        n = s["count"]
        full = n > EMPTY            # an empty line keeps its coefficients and variance (its weight is 0)
        coefficients = np.array(theta["coefficients"], dtype=float)
        if "coefficients" not in frozen:
            c, b = self.centred(coefficients)
            det = n * s["xx"] - s["x"] ** 2
            solvable = full & (det > 1e-12 * np.maximum(n * s["xx"], EMPTY))
            b = np.where(solvable, (n * s["xy"] - s["x"] * s["y"]) / np.where(solvable, det, 1.0), b)
            c = np.where(full, (s["y"] - b * s["x"]) / np.where(full, n, 1.0), c)   # a point mass: slope kept
            coefficients = np.column_stack([c - b * self.x_mean + self.y_mean, b])
        variances = np.array(theta["variances"], dtype=float)
        if "variances" not in frozen:
            rss = self.residuals(coefficients, s)
            variances[full] = np.maximum(self.floor, rss[full] / n[full])
        return {"coefficients": coefficients, "variances": variances,
                "weights": self.new_weights(n, theta, frozen)}

    def init_theta(self, rng):
        """Lines through (x̄, a random point's y) with random slopes of the data's scale."""
        x, y = self.data[:, 0], self.data[:, 1]
        slopes = rng.normal(0.0, 1.0, self.K) * y.std() / x.std()
        levels = y[rng.choice(len(y), size=self.K, replace=False)]
        return {"coefficients": np.column_stack([levels - slopes * self.x_mean, slopes]),
                "variances": np.full(self.K, y.var()), "weights": np.full(self.K, 1.0 / self.K)}

    def simulate(self, theta, n, rng):
        x = rng.choice(self.data[:, 0], size=n)
        labels = rng.choice(self.K, size=n, p=theta["weights"])
        a, b = theta["coefficients"][labels].T
        return np.column_stack([x, a + b * x + rng.normal(0.0, np.sqrt(theta["variances"][labels]))])

    noun = "line"
    floor_reason = "it passes through too few points"

    def component_order(self, theta):
        """By the lines' slopes."""
        return np.argsort(theta["coefficients"][:, 1], kind="stable")

    def slice_range(self, theta, key):
        name, index = parse_key(key)
        if name == "coefficients":
            x, y = self.data[:, 0], self.data[:, 1]
            value = float(theta[name][index])
            width = 2 * y.std() / (x.std() if index[1] == 1 else 1.0)
            return value - width, value + width
        return super().slice_range(theta, key)

    # ----- the picture -------------------------------------------------------------------------------
    def sketch(self):
        return Sketch(f"{self.n_points()} points by q; lines aₖ + bₖx", "x", "y",
                      (Layer("lines", "lines", "fitted line of each component"), Layer("points", "points")))

    def sketch_data(self, theta, q):
        x = self.data[:, 0]
        ends = np.array([x.min(), x.max()])
        a, b = np.asarray(theta["coefficients"]).T
        return {"lines": {"xs": [ends] * self.K, "ys": [a[k] + b[k] * ends for k in range(self.K)], "k": range(self.K)},
                "points": {"x": x, "y": self.data[:, 1], "q": q}}
