"""The variational identity, computed for any model:

    F(θ, q) = E_q[log p(X, Z | θ)] + H(q) = log p(X | θ) − KL(q ‖ p(Z | X, θ))

log p and F are each computed from the model directly; KL is their difference, log p − F.
Where a model has a closed form for the KL, the tests check that the two agree.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Objective:
    loglik: float
    F: float
    entropy: float

    @property
    def kl(self) -> float:
        return self.loglik - self.F


def free_energy(model, theta, q) -> float:
    """F(θ, q) = E_q[log p(X, Z | θ)] + H(q)."""
    return model.expected_complete_loglik(theta, q) + model.entropy(q)


def kl_gap(model, theta, q) -> float:
    """KL(q ‖ p(Z | X, θ)) = log p(X | θ) − F(θ, q)."""
    return evaluate(model, theta, q).kl


def evaluate(model, theta, q, entropy: float | None = None) -> Objective:
    """log p(X | θ), F(θ, q) and H(q); pass H(q) when it is already known for this very q."""
    entropy = model.entropy(q) if entropy is None else entropy
    return Objective(model.loglik(theta), model.expected_complete_loglik(theta, q) + entropy, entropy)
