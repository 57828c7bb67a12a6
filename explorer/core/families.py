"""Families of q: the set the E step maximises F(θ, q) over.

`exact` is every distribution over Z, so its E step is the posterior and closes the KL gap.
A constrained family Q′ maximises F over a tractable subset only; log p − F stays > 0 after its
E step, and the fixed points of the resulting variational EM move away from the MLE.

    exact            q ← p(Z | X, θ)
    hard             q ← point masses at argmax_z p(z_i | x_i, θ)       (classification EM)
    mean-field       q ← argmax over a factorised q of F, coordinate ascent to convergence (the model
                     says how q factorises: over each point's components, or over time)
    mean-field-1     the same, one sweep of coordinate ascent per E step (a partial E step)
"""
from __future__ import annotations

import copy

import numpy as np

from .errors import ExplorerError
from .latent_class import LatentClassModel


class Family:
    """A family declares what it is, so that no caller asks for its name: `closes_gap` (its E
    step reaches the posterior, so KL = 0 after it), `title`, `formula` (LaTeX) and `why_gap`
    (the words for the gap it leaves), `holds_the_start` (the start's q, which ignores the data,
    is one of the family's: not so for hard assignments, whose first E step may lower F). A subclass defines `e_step` or `run` (or both); a class
    that defines neither is refused where it is defined (they are written in terms of each other).
    """
    name = "family"
    title = "a family of q"
    formula = r"q \in \mathcal{Q}"
    why_gap = ""
    short = "Q′"         # a word or two for titles: "θ–q landscape (mean field)"
    closes_gap = False   # True when the E step is the exact posterior (the gap closes)
    partial = False      # True when an E step may stop short of argmax over the family
    holds_the_start = True   # the start's q (one that ignores the data) is one of the family's
    # what the observed rate |Δθ now| / |Δθ before| tends to at a fixed point
    rate_meaning = ("the rate of this family's EM map at its fixed point (q is not the posterior, so it "
                    "is not a fraction of missing information)")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.e_step is Family.e_step and cls.run is Family.run:
            raise TypeError(f"family {cls.__name__} must define e_step(model, θ, q) or run(model, θ, q); "
                            f"Family's two are written in terms of each other")

    def supports(self, model) -> bool:
        return True

    def bind(self, model) -> "Family":
        """This family as it reads for `model` (a model may word its own formula and gap)."""
        return self

    def supports_schedule(self, schedule) -> bool:
        """Incremental EM needs the E step of a block of points on its own (`block`)."""
        return not schedule.needs_block_e_step or type(self).block is not Family.block

    def block(self, model, theta, rows):
        """The E step for the points in `rows` only (for incremental EM)."""
        raise NotImplementedError

    def e_step(self, model, theta, q):
        """argmax over q in the family of F(θ, q); `q` is the current q (a starting point)."""
        return self.run(model, theta, q)[0]

    def run(self, model, theta, q) -> tuple[object, str]:
        """The E step and a few words for the history (e.g. how many sweeps it took)."""
        return self.e_step(model, theta, q), ""


class Exact(Family):
    name = "exact"
    title = "exact posterior"
    short = "exact"
    closes_gap = True
    formula = r"q(Z) \leftarrow \arg\max_{q} F(\theta, q) = p(Z \mid X, \theta)"
    why_gap = "every q is allowed, so the E step reaches the posterior and the gap closes"
    rate_meaning = "the largest fraction of missing information"

    def e_step(self, model, theta, q):
        return model.posterior(theta)

    def block(self, model, theta, rows):
        return model.posterior_block(theta, rows)


class Hard(Family):
    name = "hard"
    title = "hard assignments"
    short = "hard q"
    formula = r"q(z_i) \leftarrow \delta\big(z_i = \arg\max_k p(z_i = k \mid x_i, \theta)\big),\ \mathrm{KL} > 0"
    why_gap = ("q must put all its mass on one class per point, so wherever the posterior is "
               "uncertain KL = Σᵢ −log p(ẑᵢ|xᵢ,θ) > 0 remains")
    holds_the_start = False     # the start's q spreads each point over the classes: not a hard one

    def supports(self, model) -> bool:
        return isinstance(model, LatentClassModel)

    def e_step(self, model, theta, q):
        hard = self.block(model, theta, slice(None))
        hard.setflags(write=False)
        return hard

    def block(self, model, theta, rows):
        joint = model.log_joint(theta, rows)
        hard = np.zeros_like(joint)
        hard[np.argmax(joint, axis=0), np.arange(joint.shape[1])] = 1.0
        return hard


class MeanField(Family):
    name = "mean-field"
    title = "mean field (factorised q)"
    short = "mean field"
    formula = r"q(z_i) = \prod_j q(z_{ij}),\quad q(z_{ij}) \propto \exp \mathbb{E}_{q(z_{i,-j})}[\log p(x_i, z_i \mid \theta)]"
    why_gap = ("q(zᵢ) must factorise over the components of zᵢ, but the posterior correlates them, "
               "so q cannot equal it and KL > 0 remains")
    sweeps: int | None = None   # None: coordinate ascent to convergence

    def supports(self, model) -> bool:
        """Any model that offers `mean_field(θ, q, max_sweeps)` → (q, sweeps): the Gaussian
        latent models (over each point's components), the HMM (over time)."""
        return callable(getattr(model, "mean_field", None))

    def bind(self, model):
        """The model's own words for its factorisation, where it gives them
        (`mean_field_formula`, `mean_field_why_gap`)."""
        formula, why = getattr(model, "mean_field_formula", None), getattr(model, "mean_field_why_gap", None)
        if formula is None and why is None:
            return self
        bound = copy.copy(self)
        bound.formula, bound.why_gap = formula or self.formula, why or self.why_gap
        return bound

    def run(self, model, theta, q):
        q, sweeps = model.mean_field(theta, q, self.sweeps)
        return q, f"{sweeps} sweep{'s' if sweeps != 1 else ''} of coordinate ascent"


class MeanFieldOneSweep(MeanField):
    name = "mean-field-1"
    title = "mean field, one sweep per E step"
    short = "mean-field-1"
    sweeps = 1
    partial = True


FAMILIES: dict[str, Family] = {f.name: f for f in (Exact(), Hard(), MeanField(), MeanFieldOneSweep())}


def get_family(name: str, model=None) -> Family:
    if name not in FAMILIES:
        raise ExplorerError(f"unknown family {name!r} (families: {', '.join(FAMILIES)})")
    family = FAMILIES[name]
    if model is None:
        return family
    if not family.supports(model):
        raise ExplorerError(f"family {name!r} is not available for model {model.name} "
                            f"(families: {', '.join(families_for(model))})")
    return family.bind(model)


def families_for(model) -> list[str]:
    return [name for name, f in FAMILIES.items() if f.supports(model)]
