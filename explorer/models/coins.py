"""Two coins (Do & Batzoglou 2008, Nature Biotechnology 26:897–899, Figure 1).

Each set i of n_i tosses with h_i heads comes from coin A (probability w_A) or coin B. The
probability of the observed sequence of tosses (no binomial coefficient: the order is data):

    log p(x_i, z_i = A | θ) = log w_A + h_i log θ_A + (n_i − h_i) log(1 − θ_A)

and likewise for B with 1 − w_A. With responsibilities r_i = q(z_i = A), the M step is

    θ_A = Σ r_i h_i / Σ r_i n_i,   θ_B = Σ (1−r_i) h_i / Σ (1−r_i) n_i,   w_A = mean(r_i).

The mixing weight is frozen at 1/2 by default, as in the paper.
"""
from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from ..core.errors import ExplorerError
from ..core.latent_class import LatentClassModel
from ..core.model import Param

DO_BATZOGLOU_SETS = ("HTTTHHTHTH", "HHHHTHHHHH", "HTHHHHHTHH", "HTHTTTHHTT", "THHHTHHHTH")


class Coins(LatentClassModel):
    name = "coins"
    title = "Two coins (Do & Batzoglou 2008)"
    datasets = {"do-batzoglou": "five sets of 10 tosses (heads 5, 9, 8, 4, 7), Do & Batzoglou 2008 Fig. 1"}
    default_dataset = "do-batzoglou"
    data_view = "sets"
    latent_description = "which coin (A or B) tossed each set"
    count_stats = ("count", "heads", "tails")
    reference_theta0 = {"theta_A": 0.6, "theta_B": 0.5, "weight_A": 0.5}

    def params(self):
        return [Param("theta_A", (), "unit", r"\theta_A"),
                Param("theta_B", (), "unit", r"\theta_B"),
                Param("weight_A", (), "unit", r"w_A", frozen_by_default=True)]

    @classmethod
    def load_dataset(cls, name, **options):
        if name != "do-batzoglou":
            return super().load_dataset(name)
        return np.array([[s.count("H"), len(s)] for s in DO_BATZOGLOU_SETS], dtype=float)

    @classmethod
    def data_from_table(cls, header, values, **options):
        if header != ["heads", "tosses"]:
            raise ExplorerError(f"coins data must be a CSV with header heads,tosses, got {','.join(header)}")
        return values

    @classmethod
    def synthetic(cls, n, seed, separation=1.0, tosses=10, **options):
        rng = np.random.default_rng(seed)
        gap = float(np.clip(0.15 * separation, 0.0, 0.45))
        probs = np.where(rng.uniform(size=n) < 0.5, 0.5 + gap, 0.5 - gap)
        return np.column_stack([rng.binomial(tosses, probs), np.full(n, tosses)]).astype(float)

    def validate_data(self, data):
        x = np.asarray(data, dtype=float)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ExplorerError("coins data must have two columns: heads, tosses")
        if len(x) < 2:
            raise ExplorerError(f"coins data needs at least 2 sets of tosses, got {len(x)}")
        for i, (h, n) in enumerate(x, start=1):
            if not (np.isfinite(h) and np.isfinite(n) and h == round(h) and n == round(n)):
                raise ExplorerError(f"coins data row {i}: heads and tosses must be whole numbers, got {h}, {n}")
            if not 0 <= h <= n or n < 1:
                raise ExplorerError(f"coins data row {i}: need 0 <= heads <= tosses and tosses >= 1, got {h}, {n}")
        return x

    def n_classes(self):
        return 2

    def prior_weights(self, theta):
        w = float(theta["weight_A"])
        return np.array([w, 1 - w])

    def log_joint(self, theta, rows=slice(None)):
        heads, tosses = self.data[rows, 0], self.data[rows, 1]
        rows = []
        for weight, p in ((theta["weight_A"], theta["theta_A"]), (1 - theta["weight_A"], theta["theta_B"])):
            with np.errstate(divide="ignore"):
                rows.append(np.log(weight) + xlogy(heads, p) + xlogy(tosses - heads, 1 - p))
        return np.array(rows)

    def suff_stats(self, q, rows=slice(None)):
        heads, tosses = self.data[rows, 0], self.data[rows, 1]
        return {"count": q.sum(axis=1), "heads": q @ heads, "tails": q @ (tosses - heads)}

    def ecll_from_stats(self, theta, stats):
        weights = self.prior_weights(theta)
        probs = np.array([theta["theta_A"], theta["theta_B"]], dtype=float)
        return float(np.sum(xlogy(stats["count"], weights) + xlogy(stats["heads"], probs)
                            + xlogy(stats["tails"], 1 - probs)))

    def ecll_grid(self, thetas, stats):
        """ecll_from_stats for every (stats, θ) pair at once: arrays (S, T, 2) by broadcasting."""
        w = np.array([[t["weight_A"], 1 - t["weight_A"]] for t in thetas], dtype=float)[None]
        probs = np.array([[t["theta_A"], t["theta_B"]] for t in thetas], dtype=float)[None]
        count, heads, tails = (np.array([s[name] for s in stats], dtype=float)[:, None]
                               for name in ("count", "heads", "tails"))
        return np.sum(xlogy(count, w) + xlogy(heads, probs) + xlogy(tails, 1 - probs), axis=-1)

    def m_step(self, q, theta, frozen=frozenset()):
        stats = self.stats(q)
        new = dict(theta)
        for k, key in enumerate(("theta_A", "theta_B")):
            total = stats["heads"][k] + stats["tails"][k]
            if key not in frozen and total > 0:
                new[key] = stats["heads"][k] / total
        if "weight_A" not in frozen:
            new["weight_A"] = stats["count"][0] / stats["count"].sum()
        return new

    def init_theta(self, rng):
        return {"theta_A": rng.uniform(0.2, 0.8), "theta_B": rng.uniform(0.2, 0.8), "weight_A": 0.5}

    def simulate(self, theta, n, rng):
        tosses = int(np.median(self.data[:, 1]))
        coin_a = rng.uniform(size=n) < theta["weight_A"]
        probs = np.where(coin_a, theta["theta_A"], theta["theta_B"])
        return np.column_stack([rng.binomial(tosses, probs), np.full(n, tosses)]).astype(float)

    def expected_counts(self, q) -> dict:
        """Expected heads and tails credited to each coin under q (the paper's table)."""
        stats = self.suff_stats(q)
        return {"A": (float(stats["heads"][0]), float(stats["tails"][0])),
                "B": (float(stats["heads"][1]), float(stats["tails"][1]))}
