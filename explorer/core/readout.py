"""The numbers of one session state, computed once, as a value: the app's texts, the standalone
page, the CLI and `explorer.plots` format this one value (`explorer.shown` writes it).

    log p = log p(X | θ),   F = E_q[log p(X, Z | θ)] + H(q),   KL(q ‖ p(Z | X, θ)) = log p − F ≥ 0

KL is shown as 0 where log p − F is rounding (`kl_shown`). The rate is the observed
|Δθ now| / |Δθ before| once it has settled (`convergence.settled_rate`), None before. The gap
to exact is log p at exact EM's fixed point minus log p now, when a comparison is known.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .convergence import settled_rate

ROUNDING = 1e-10      # relative: a difference below ROUNDING × (1 + |the numbers|) is rounding


def rounding(*values: float) -> float:
    """The size below which a difference of `values` is rounding, not a change:
    ROUNDING × (1 + max |value|), over the finite ones."""
    return ROUNDING * (1.0 + max((abs(v) for v in values if np.isfinite(v)), default=0.0))


def difference_shown(a: float, b: float) -> float:
    """a − b as the screen shows it: 0 where |a − b| ≤ `rounding(a, b)` = ROUNDING·(1 + max(|a|,
    |b|)), either way (F − log p after an exact E step read 1.42e−14 beside a KL of 0). The
    sentences' "stayed at" and the numbers table's change column both use it."""
    difference = a - b
    return 0.0 if np.isfinite(difference) and abs(difference) <= rounding(a, b) else difference


def kl_shown(loglik: float, F: float) -> float:
    """KL = log p − F as the screen shows it, never below 0: 0 where it is below rounding (an
    exact E step leaves ±1e-14, which read as "KL fell to 7.1e−15" or a negative KL)."""
    return max(difference_shown(loglik, F), 0.0)      # −∞ (log p = −∞) shows 0; NaN stays NaN


def theta_change(before: dict, after: dict) -> float:
    """The largest change of any coordinate of θ, relative to its size: max |Δθ| / (1 + |θ|)."""
    return max((float(np.max(np.abs(np.asarray(after[k], float) - np.asarray(v, float)) /
                              (1.0 + np.abs(np.asarray(v, float))), initial=0.0))
                for k, v in before.items()), default=0.0)


@dataclass(frozen=True)
class Step:
    """What the half step into a state did: its kind and the numbers before it."""
    kind: str                    # "E" or "M"
    detail: str                  # the schedule's words for it ("" for a plain step)
    partial: bool                # q is not the family's full E step (a block of points)
    previous_loglik: float
    previous_F: float
    previous_kl: float           # as shown (kl_shown)
    theta_change: float          # max |Δθ| / (1 + |θ before|)
    theta_delta: dict = field(default_factory=dict)   # Δθ of each parameter that moved


@dataclass(frozen=True)
class Readout:
    """The numbers of one state (see the module's docstring)."""
    index: int
    kind: str                    # "init", "E" or "M"
    theta: dict
    loglik: float
    F: float
    kl: float                    # log p − F, 0 where that is rounding
    rate: float | None = None    # the settled observed rate, None until it settles
    gap_to_exact: float | None = None   # log p(θ̂ of exact EM) − log p, when a comparison is known
    warnings: tuple[str, ...] = ()
    step: Step | None = None     # None at the start (or where the previous state is not known)

    @property
    def finite(self) -> bool:
        return bool(np.isfinite(self.loglik) and np.isfinite(self.F))

    def to_json(self) -> dict:
        step = None if self.step is None else {
            "kind": self.step.kind, "detail": self.step.detail, "partial": self.step.partial,
            "previous_loglik": self.step.previous_loglik, "previous_F": self.step.previous_F,
            "previous_kl": self.step.previous_kl, "theta_change": self.step.theta_change}
        return {"index": self.index, "kind": self.kind, "loglik": self.loglik, "F": self.F, "kl": self.kl,
                "rate": self.rate, "gap_to_exact": self.gap_to_exact, "warnings": list(self.warnings),
                "step": step}


def readout_of(state, previous=None, states=None, exact_loglik: float | None = None) -> Readout:
    """The Readout of `state`, the step from `previous` (None: the start), the settled rate over
    `states` (the history up to `state`; None: no rate) and the gap to `exact_loglik`."""
    step = None
    if previous is not None and state.kind != "init":
        delta = {k: np.asarray(v) - np.asarray(previous.theta[k]) for k, v in state.theta.items()
                 if not np.array_equal(v, previous.theta[k])}
        step = Step(state.kind, state.detail, bool(state.partial), previous.loglik, previous.F,
                    kl_shown(previous.loglik, previous.F), theta_change(previous.theta, state.theta), delta)
    return Readout(state.index, state.kind, state.theta, state.loglik, state.F, kl_shown(state.loglik, state.F),
                   settled_rate(states) if states is not None else None,
                   None if exact_loglik is None else float(exact_loglik - state.loglik),
                   tuple(state.warnings), step)


def readout(session, comparison=None) -> Readout:
    """The Readout of `session`'s current state; the step from the state before it while undo
    reaches it; the gap to exact when `comparison` (core.compare.Comparison) is given."""
    previous = session.history[session.position - 1] if session.position > max(session.earliest, 0) else None
    exact = None if comparison is None else comparison.exact.current.loglik
    return readout_of(session.current, previous, session.states, exact)
