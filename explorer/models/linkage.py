"""Genetic linkage (Dempster, Laird & Rubin 1977, Section 1): the first EM example.

197 animals fall into four cells with probabilities (1/2 + θ/4, (1−θ)/4, (1−θ)/4, θ/4),
counts y = (y1, y2, y3, y4). The latent variable splits cell 1 into a part of probability 1/2
and a part of probability θ/4: each of the y1 animals is in the θ part with probability

    π(θ) = (θ/4) / (1/2 + θ/4)            (the exact posterior, q = π)

For any q = π (each cell-1 animal independently in the θ part with probability π), with
C = log multinomial coefficient of y:

    log p(y | θ)       = C + y1 log(1/2 + θ/4) + (y2 + y3) log((1−θ)/4) + y4 log(θ/4)
    E_q log p(y, z | θ) = C + y1 [π log(θ/4) + (1−π) log(1/2)] + (y2 + y3) log((1−θ)/4) + y4 log(θ/4)
    H(q)               = −y1 [π log π + (1−π) log(1−π)]

and the M step is θ' = (y1 π + y4) / (y1 π + y2 + y3 + y4).
"""
from __future__ import annotations

import numpy as np
from scipy.special import gammaln, xlogy

from ..core.errors import ExplorerError
from ..core.model import Model, Param

RAO_COUNTS = (125, 18, 20, 34)


class Linkage(Model):
    name = "linkage"
    title = "Genetic linkage (Dempster, Laird & Rubin 1977)"
    datasets = {"rao": "Rao's counts y = (125, 18, 20, 34), 197 animals (DLR 1977, Section 1)"}
    default_dataset = "rao"
    data_view = "cells"
    latent_description = "which part of cell 1 each of its y1 animals belongs to"
    reference_theta0 = {"theta": 0.5}

    def params(self):
        return [Param("theta", (), "unit", r"\theta")]

    @classmethod
    def load_dataset(cls, name, **options):
        if name != "rao":
            return super().load_dataset(name)
        return np.array(RAO_COUNTS, dtype=float)

    @classmethod
    def data_from_table(cls, header, values, **options):
        if header != ["y1", "y2", "y3", "y4"] or values.shape[0] != 1:
            raise ExplorerError("linkage data must be a CSV with header y1,y2,y3,y4 and one row of counts")
        return values[0]

    @classmethod
    def synthetic(cls, n, seed, separation=1.0, **options):
        theta = float(np.clip(0.3 + 0.3 * separation, 0.05, 0.95))
        return np.random.default_rng(seed).multinomial(n, cls.cell_probabilities({"theta": theta})).astype(float)

    def validate_data(self, data):
        y = np.asarray(data, dtype=float).reshape(-1)
        if y.shape != (4,):
            raise ExplorerError(f"linkage data must be four counts y1..y4, got {y.size} values")
        if np.any(~np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y)):
            raise ExplorerError(f"linkage counts must be non-negative integers, got {y.tolist()}")
        if y.sum() < 1:
            raise ExplorerError("linkage data has no animals (all counts are 0)")
        return y

    # ------------------------------------------------------------------------------------------
    def _const(self):
        y = self.data
        return gammaln(y.sum() + 1) - gammaln(y + 1).sum()

    def _observed_terms(self, t):
        y1, y2, y3, y4 = self.data
        return xlogy(y2 + y3, (1 - t) / 4) + xlogy(y4, t / 4)

    def loglik(self, theta):
        t = float(theta["theta"])
        return float(self._const() + xlogy(self.data[0], 0.5 + t / 4) + self._observed_terms(t))

    def posterior(self, theta):
        t = float(theta["theta"])
        return np.array((t / 4) / (0.5 + t / 4))

    def expected_complete_loglik(self, theta, q):
        t, pi = float(theta["theta"]), float(q)
        y1 = self.data[0]
        split = xlogy(y1 * pi, t / 4) + (y1 * (1 - pi)) * np.log(0.5)
        return float(self._const() + split + self._observed_terms(t))

    def entropy(self, q):
        pi = float(q)
        return float(-self.data[0] * (xlogy(pi, pi) + xlogy(1 - pi, 1 - pi)))

    def m_step(self, q, theta, frozen=frozenset()):
        if "theta" in frozen:
            return dict(theta)
        y1, y2, y3, y4 = self.data
        x2 = y1 * float(q)
        total = x2 + y2 + y3 + y4
        return {"theta": (x2 + y4) / total if total > 0 else float(theta["theta"])}

    def init_theta(self, rng):
        return {"theta": rng.uniform(0.05, 0.95)}

    def simulate(self, theta, n, rng):
        return rng.multinomial(n, self.cell_probabilities(theta)).astype(float)

    def initial_q(self, theta):
        return np.array(0.5)

    def random_q(self, rng):
        return np.array(rng.uniform())

    @staticmethod
    def cell_probabilities(theta) -> np.ndarray:
        """The four cells' probabilities (½ + θ/4, (1 − θ)/4, (1 − θ)/4, θ/4)."""
        t = float(theta["theta"])
        return np.array([0.5 + t / 4, (1 - t) / 4, (1 - t) / 4, t / 4])

    def split_of_first_cell(self, q) -> tuple[float, float]:
        """Expected counts (x1, x2) of the 1/2 part and the θ/4 part of cell 1 under q."""
        y1 = self.data[0]
        return float(y1 * (1 - float(q))), float(y1 * float(q))
