"""Families of q: the set the E step maximises F(θ, q) over.

`exact` is every distribution over Z, so its E step is the posterior and closes the KL gap.
A constrained family Q′ maximises F over a tractable subset only; its gap cannot close.
"""
from __future__ import annotations

from .errors import ExplorerError


class Family:
    name = "family"
    title = "a family of q"
    formula = r"q \in \mathcal{Q}"
    why_gap = ""

    def supports(self, model) -> bool:
        return True

    def e_step(self, model, theta, q):
        """argmax over q in the family of F(θ, q); `q` is the current q (a starting point)."""
        raise NotImplementedError


class Exact(Family):
    name = "exact"
    title = "exact posterior"
    formula = r"q(Z) \leftarrow p(Z \mid X, \theta)"
    why_gap = "every q is allowed, so the E step can reach the posterior and the gap closes"

    def e_step(self, model, theta, q):
        return model.posterior(theta)


FAMILIES: dict[str, Family] = {f.name: f for f in (Exact(),)}


def get_family(name: str, model=None) -> Family:
    if name not in FAMILIES:
        raise ExplorerError(f"unknown family {name!r} (families: {', '.join(FAMILIES)})")
    family = FAMILIES[name]
    if model is not None and not family.supports(model):
        raise ExplorerError(f"family {name!r} is not available for model {model.name}")
    return family


def families_for(model) -> list[str]:
    return [name for name, f in FAMILIES.items() if f.supports(model)]
