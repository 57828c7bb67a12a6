"""Right-censored exponential lifetimes (the classic EM example for censored data).

Unit i is followed for a time t_i; δ_i = 1 if its event (death, relapse) was seen at t_i,
δ_i = 0 if it was censored: still alive at t_i, lifetime unknown. Lifetimes are exponential
with rate λ. The latent variables are the unseen excess lifetimes e_i = y_i − t_i of the m
censored units; by memorylessness p(e_i | e_i > 0, λ) = λ e^{−λ e_i}. With n units, d = n − m
events and T = Σ_i t_i:

    log p(X | λ)          = d log λ − λ T
    log p(X, e | λ)       = n log λ − λ (T + Σ_cens e_i)
    posterior             e_i ~ Exp(λ) for each censored unit

q gives each censored unit an exponential excess, e_i ~ Exp(r_i) (q is the vector r; the
posterior has r_i = λ), so

    E_q log p(X, e | λ)   = n log λ − λ (T + Σ_i 1/r_i)
    H(q)                  = Σ_i (1 − log r_i)
    M step                λ' = n / (T + Σ_i 1/r_i)      (every unit counted, at its expected lifetime)

The MLE is λ̂ = d / T, and EM's rate of convergence at λ̂ is m / n, the fraction censored
(dλ'/dλ = (n m / λ²) / (T + m/λ)² = m/n at λ̂): the more censoring, the slower EM.
"""
from __future__ import annotations

import csv
import io

import numpy as np

from ..core.errors import ExplorerError
from ..core.model import Model, Param
from ..datasets import builtin_text


class Censored(Model):
    name = "censored"
    title = "Right-censored exponential lifetimes"
    datasets = {"gehan-6mp": "remission times (weeks) of the 21 patients on 6-MP, 12 censored "
                             "(Gehan 1965; R MASS::gehan)"}
    default_dataset = "gehan-6mp"
    data_view = "lifetimes"
    latent_description = "the unseen remaining lifetime of each censored unit"

    def params(self):
        return [Param("rate", (), "positive", r"\lambda")]

    # ----- data ----------------------------------------------------------------------------------
    @classmethod
    def load_dataset(cls, name, **options):
        if name != "gehan-6mp":
            return super().load_dataset(name)
        rows = list(csv.DictReader(io.StringIO(builtin_text("gehan.csv"))))
        return np.array([[float(r["time"]), float(r["cens"])] for r in rows if r["treat"] == "6-MP"])

    @classmethod
    def data_from_table(cls, header, values, **options):
        if header != ["time", "observed"]:
            raise ExplorerError(f"censored data must have the columns time,observed "
                                f"(observed = 1 for an event, 0 for censored); got {','.join(header)}")
        return values

    @classmethod
    def synthetic(cls, n, seed, separation=1.0, **options):
        """Lifetimes with rate 1, censored at uniform times on [0, 3/separation]: a larger
        separation censors more units (about 1 − separation/3 (1 − e^{−3/separation}))."""
        if not separation > 0:
            raise ExplorerError(f"censored: the separation must be positive, got {separation}")
        rng = np.random.default_rng(seed)
        life = rng.exponential(1.0, size=n)
        limit = rng.uniform(0, 3.0 / separation, size=n)
        return np.column_stack([np.minimum(life, limit), (life <= limit).astype(float)])

    def validate_data(self, data):
        x = np.asarray(data, dtype=float)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ExplorerError(f"censored data must have two columns (time, observed), got shape {list(x.shape)}")
        for i, (time, observed) in enumerate(x, start=1):
            if not np.isfinite(time) or time < 0:
                raise ExplorerError(f"censored data row {i}: the time must be a finite number ≥ 0, got {time}")
            if observed not in (0.0, 1.0):
                raise ExplorerError(f"censored data row {i}: observed must be 1 (event) or 0 (censored), "
                                    f"got {observed}")
        if len(x) < 2:
            raise ExplorerError(f"censored data needs at least 2 units, got {len(x)}")
        if x[:, 1].sum() == 0:
            raise ExplorerError("censored data has no observed event: the rate's MLE is 0 (no maximum)")
        if x[:, 0].sum() <= 0:
            raise ExplorerError("censored data has a total time of 0: the rate's MLE is infinite")
        self.total_time = float(x[:, 0].sum())
        self.events = int(x[:, 1].sum())
        self.censored = ~x[:, 1].astype(bool)
        return x

    @property
    def n_units(self) -> int:
        return len(self.data)

    # ----- the contract ----------------------------------------------------------------------------
    def loglik(self, theta):
        rate = float(theta["rate"])
        return self.events * np.log(rate) - rate * self.total_time

    def posterior(self, theta):
        q = np.full(int(self.censored.sum()), float(theta["rate"]))
        q.setflags(write=False)
        return q

    def suff_stats(self, q, rows=slice(None)):
        """Σ_i 1/r_i, the expected total excess lifetime of the censored units under q."""
        return float(np.sum(1.0 / np.asarray(q)[rows]))

    def ecll_from_stats(self, theta, stats):
        rate = float(theta["rate"])
        return self.n_units * np.log(rate) - rate * (self.total_time + stats)

    def expected_complete_loglik(self, theta, q):
        return self.ecll_from_stats(theta, self.stats(q))

    def entropy(self, q):
        return float(np.sum(1.0 - np.log(np.asarray(q))))

    def m_step(self, q, theta, frozen=frozenset()):
        if "rate" in frozen:
            return dict(theta)
        return {"rate": self.n_units / (self.total_time + self.stats(q))}

    def init_theta(self, rng):
        return {"rate": self.events / self.total_time * float(np.exp(rng.normal(scale=0.7)))}

    def simulate(self, theta, n, rng):
        limit = rng.choice(self.data[:, 0], size=n)      # censoring times like the data's
        life = rng.exponential(1.0 / float(theta["rate"]), size=n)
        return np.column_stack([np.minimum(life, limit), (life <= limit).astype(float)])

    def initial_q(self, theta):
        """A q that has not looked at λ: every censored unit's excess lifetime exponential with
        the naive rate n / T (as if each censored time had been an event)."""
        q = np.full(int(self.censored.sum()), self.n_units / self.total_time)
        q.setflags(write=False)
        return q

    def random_q(self, rng):
        return self.n_units / self.total_time * np.exp(rng.normal(scale=0.7, size=int(self.censored.sum())))

    def slice_range(self, theta, key):
        mle = self.events / self.total_time
        return mle / 4, mle * 4

    # ----- the data view ---------------------------------------------------------------------------
    def lifetimes(self, q) -> dict:
        """What the lifetimes view draws: every unit's follow-up time, whether its event was
        seen, and for censored units the expected lifetime under q, t_i + 1/r_i."""
        expected = self.data[:, 0].copy()
        expected[self.censored] += 1.0 / np.asarray(q, dtype=float)
        return {"time": self.data[:, 0], "observed": self.data[:, 1].astype(bool), "expected": expected}
