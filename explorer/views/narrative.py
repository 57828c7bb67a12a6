"""Words for what a step did: the sentence and formula of the numbers panel."""
from __future__ import annotations

FORMULAS = {
    "init": r"F(\theta, q) = \mathbb{E}_q[\log p(X, Z \mid \theta)] + H(q) = \log p(X \mid \theta) - \mathrm{KL}(q \,\|\, p(Z \mid X, \theta))",
    "M": r"\theta \leftarrow \arg\max_{\theta} F(\theta, q) = \arg\max_{\theta} \mathbb{E}_q[\log p(X, Z \mid \theta)]",
}


def fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        return f"{value:.3e}"
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.6g}"


def describe(previous, current, family) -> str:
    """One or two sentences: what the step from `previous` to `current` did, and why."""
    if previous is None or current.kind == "init":
        return (f"Start: θ⁰ and a q that ignores the data, so F = {fmt(current.F)} lies below "
                f"log p = {fmt(current.loglik)} by KL = {fmt(current.kl)}. An E step closes the gap.")
    if current.kind == "E":
        if current.partial:
            return (f"Partial E step: q moves toward the family's best q for some of the latent variables "
                    f"only, so F rose from {fmt(previous.F)} to {fmt(current.F)} and KL fell from "
                    f"{fmt(previous.kl)} to {fmt(max(current.kl, 0.0))}, not to its minimum.")
        if family.name == "exact":
            return (f"E step: q ← p(Z|X,θ), so KL fell from {fmt(previous.kl)} to {fmt(max(current.kl, 0.0))} "
                    f"and F rose from {fmt(previous.F)} to log p = {fmt(current.loglik)}; θ did not move.")
        return (f"E step within {family.title}: q ← the best q of the family, so F rose from "
                f"{fmt(previous.F)} to {fmt(current.F)}, but KL stays at {fmt(current.kl)}: "
                f"{family.why_gap}.")
    move = "θ ← argmax F(θ, q)" if not current.detail else "θ moved to raise F(θ, q)"
    return (f"M step: {move} with q held, so F rose from {fmt(previous.F)} to {fmt(current.F)} "
            f"and log p from {fmt(previous.loglik)} to {fmt(current.loglik)}; KL is now "
            f"{fmt(current.kl)} because q was fitted to the old θ, not the new one.")
