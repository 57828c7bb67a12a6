"""Exact EM against variational EM in a constrained family, from the same start.

Both run to convergence; the comparison reports each fixed point θ̂, log p at each, the KL gap
that remains at the variational fixed point, and the bias Δθ = θ̂(Q′) − θ̂(exact).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import theta_to_json
from .session import Session


@dataclass(frozen=True)
class Comparison:
    family: str
    exact: Session
    constrained: Session
    converged: tuple[bool, bool]

    @property
    def bias(self) -> dict:
        a, b = self.exact.current.theta, self.constrained.current.theta
        return {k: np.asarray(b[k]) - np.asarray(a[k]) for k in a}

    def to_json(self) -> dict:
        e, c = self.exact.current, self.constrained.current
        return {"family": self.family,
                "exact": {"theta": theta_to_json(e.theta), "loglik": e.loglik, "iterations": e.index // 2,
                          "converged": self.converged[0]},
                "constrained": {"theta": theta_to_json(c.theta), "loglik": c.loglik, "F": c.F,
                                "kl_gap": c.kl, "iterations": c.index // 2, "converged": self.converged[1]},
                "bias": theta_to_json(self.bias),
                "loglik_loss": e.loglik - c.loglik}


def compare_with_exact(model, family: str, theta0=None, frozen=None, seed: int = 0, tol: float = 1e-9,
                       max_iterations: int = 5000) -> Comparison:
    """Run exact EM and variational EM in `family` to convergence from the same θ0.

    The variational run ends on an E step, so that its F and KL are those of the fixed point:
    F(θ̂, q*_θ̂) and the irreducible gap KL = log p(X | θ̂) − F(θ̂, q*_θ̂)."""
    sessions, converged = [], []
    for name in ("exact", family):
        session = Session(model, theta0, family=name, frozen=frozen, seed=seed)
        converged.append(session.run(tol=tol, max_iterations=max_iterations).converged)
        session.e_step()
        sessions.append(session)
    return Comparison(family, sessions[0], sessions[1], tuple(converged))
