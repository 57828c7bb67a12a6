"""The words and tables of the app, as pure functions of the numbers (HTML strings).

Every sentence is chosen from the actual signs of the changes it describes and from the family
of q: "rose" only when the number rose, "closes the gap" only where the family can close it.
No Panel here: the tests call these directly.
"""
from __future__ import annotations

import html
from decimal import Decimal

import numpy as np

from ..views.base import fmt, kl_shown, rounding

# Formulas in Unicode HTML (no KaTeX: it renders slowly on every step and needs a font).
FORMULAS = {
    "init": "F(θ, q) = E<sub>q</sub>[log p(X, Z | θ)] + H(q) = log p(X | θ) − KL(q ‖ p(Z | X, θ))",
    "E-exact": "E step: q(Z) ← argmax<sub>q</sub> F(θ, q) = p(Z | X, θ)",
    "E-family": "E step: q ← argmax<sub>q ∈ Q′</sub> F(θ, q); KL(q ‖ p(Z | X, θ)) > 0 remains",
    "M": "M step: θ ← argmax<sub>θ</sub> F(θ, q) = argmax<sub>θ</sub> E<sub>q</sub>[log p(X, Z | θ)]",
}
PASS, FAIL = "PASS", "FAIL"     # words, not emoji: a lecture hall's machine may lack the font


def short_theta(theta) -> str:
    """θ in one line: "name = value; ..." (plain text: escape it for HTML)."""
    return "; ".join(f"{k} = {short(v)}" for k, v in theta.items())


def short(value) -> str:
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return fmt(float(array))
    return "[" + ", ".join(fmt(v) for v in array.ravel()[:12]) + (", …" if array.size > 12 else "") + "]"


def theta_change(before: dict, after: dict) -> float:
    """The largest change of any coordinate of θ, relative to its size."""
    return max((float(np.max(np.abs(np.asarray(after[k], float) - np.asarray(v, float)) /
                              (1.0 + np.abs(np.asarray(v, float))), initial=0.0))
                for k, v in before.items()), default=0.0)


def moved(name: str, before: float, after: float) -> str:
    """'F rose from a to b', 'F fell from a to b' or 'F stayed at a', from the sign; a and b with
    as many digits as it takes to tell them apart (never "rose from −1034 to −1034")."""
    if abs(after - before) <= rounding(before, after):
        return f"{name} stayed at {_significant(after, 9) if np.isfinite(after) else fmt(after)}"
    verb = "rose" if after > before else "fell"
    a, b = apart(before, after)
    if a == b:
        return f"{name} {verb} by {fmt(after - before)} (the same to 12 digits: {b})"
    return f"{name} {verb} from {a} to {b}"


def apart(a: float, b: float) -> tuple[str, str]:
    """a and b written with the fewest significant digits (6 at least, 12 at most) that show
    they differ."""
    if not (np.isfinite(a) and np.isfinite(b)):
        return fmt(a), fmt(b)
    for digits in range(6, 13):
        texts = tuple(_significant(v, digits) for v in (a, b))
        if texts[0] != texts[1]:
            return texts
    return texts


def _significant(value: float, digits: int) -> str:
    if value == 0 or 1e-3 <= abs(value) < 1e12:
        return f"{value:.{digits}g}".replace("-", "−") if abs(value) < 10 ** digits else \
            f"{value:.0f}".replace("-", "−")
    return f"{value:.{digits - 1}e}".replace("-", "−")


def identity_decimals(loglik: float, F: float, kl: float) -> int:
    """Decimals for log p, F and KL written side by side so that log p − F visibly equals KL:
    enough for three significant digits of KL (and six of log p), no more than a double holds
    at log p's size."""
    size = max(abs(v) for v in (loglik, F, 1.0) if np.isfinite(v))
    whole = int(np.floor(np.log10(size)))             # log p's digits before the point, less one
    base = max(0, 5 - whole)
    visible = np.isfinite(kl) and kl > rounding(loglik, F)      # below that, KL is rounding: 0
    need = int(np.ceil(-np.log10(kl))) + 2 if visible else base
    return int(min(max(base, need), max(0, 14 - whole)))


def fixed(value: float, decimals: int) -> str:
    """`value` with `decimals` decimals and a real minus (−∞, ∞ and NaN as words)."""
    if not np.isfinite(value):
        return fmt(value)
    return f"{value:.{decimals}f}".replace("-", "−")


def identity_texts(loglik: float, F: float) -> tuple[str, str, str]:
    """log p, F and KL with the same decimals, F written as log p − KL to those decimals, so
    that the three subtract exactly on the screen. (Each rounded on its own, log p − F came out
    one unit off KL in the last digit about a third of the time: −31.8593 − (−31.9972) = 0.1379
    beside KL = 0.1380.) F's text is then within one unit of the last digit of F. A KL below
    rounding is written 0 (`kl_shown`)."""
    kl = kl_shown(loglik, F)
    decimals = identity_decimals(loglik, F, kl)
    if not (np.isfinite(loglik) and np.isfinite(F) and np.isfinite(kl)):
        return fixed(loglik, decimals), fixed(F, decimals), fixed(kl, decimals)
    logp_text, kl_text = Decimal(f"{loglik:.{decimals}f}"), Decimal(f"{kl:.{decimals}f}")
    return tuple(f"{v:.{decimals}f}".replace("-", "−") for v in (logp_text, logp_text - kl_text, kl_text))


def kl_of(state) -> float:
    """The state's KL as shown: 0 where it is rounding (`kl_shown`)."""
    return kl_shown(state.loglik, state.F)


def start_sentence(state, family) -> str:
    if family.closes_gap:
        close = "An E step closes the gap: q becomes the posterior and F touches log p."
    else:
        close = (f"An E step within {family.title} narrows the gap as far as the family allows, "
                 f"but cannot close it: {family.why_gap}.")
    return (f"Start: θ⁰ and a q that ignores the data, so F = {fmt(state.F)} lies below "
            f"log p = {fmt(state.loglik)} by KL = {fmt(kl_of(state))}. {close}")


def step_sentence(previous, current, family) -> str:
    """What the step from `previous` to `current` did, and why; verbs follow the signs."""
    if previous is None or current.kind == "init":
        return start_sentence(current, family)
    f_words = moved("F", previous.F, current.F)
    kl_words = moved("KL", kl_of(previous), kl_of(current))
    if current.kind == "E":
        if current.partial:
            return (f"Partial E step ({current.detail or 'part of q'}): q moves toward the family's best "
                    f"for some latent variables only, so {f_words} and {kl_words}; θ did not move.")
        if family.closes_gap:
            return (f"E step: q ← p(Z|X,θ), so {kl_words} and {f_words}, touching log p = "
                    f"{fmt(current.loglik)}; θ did not move.")
        note = "" if current.F >= previous.F - rounding(previous.F, current.F) else (
            " (F can fall here: the q before was not in the family, so this E step is a projection "
            "onto it, not an ascent)")
        how = f" ({current.detail})" if current.detail else ""
        return (f"E step within {family.title}{how}: q ← the family's best q, so {f_words}{note}; "
                f"KL is {fmt(kl_of(current))}, not 0: {family.why_gap}.")
    what = current.detail or "θ ← argmax F(θ, q)"
    logp_words = moved("log p", previous.loglik, current.loglik)
    if theta_change(previous.theta, current.theta) <= 1e-9:
        gap = ("" if family.closes_gap else
               f" The KL of {fmt(kl_of(current))} that remains is the family's own gap: {family.why_gap}.")
        return (f"M step ({what}) with q held: θ did not move (a fixed point), so {f_words} and "
                f"{logp_words}: θ already maximises F(θ, q) for this q.{gap}")
    if family.closes_gap and current.partial:
        why = ("because q was fitted block by block to earlier θs: each partial E step narrows it"
               if kl_of(current) > rounding(current.loglik) else "")
    elif family.closes_gap:
        why = ("because q was fitted to the old θ, not the new one: the next E step closes it"
               if kl_of(current) > rounding(current.loglik) else "")
    else:
        why = (f"part of it is the family's own gap ({family.why_gap}), part that q was fitted to the "
               f"old θ")
    kl_sentence = f"KL is now {fmt(kl_of(current))}" + (f", {why}" if why else "")
    return f"M step ({what}) with q held: {f_words} and {logp_words}; {kl_sentence}."


def formula(state, family) -> str:
    if state.kind == "init":
        return FORMULAS["init"]
    if state.kind == "E":
        return FORMULAS["E-exact"] if family.closes_gap else FORMULAS["E-family"]
    return FORMULAS["M"]


def status_line(position: int, last: int, state, family) -> str:
    kind = {"init": "start", "E": "after an E step", "M": "after an M step"}[state.kind]
    return f"<b>State {position} of {last}</b> ({kind}; family: {html.escape(family.title)})"


def numbers_table(state, previous) -> str:
    """log p, F and KL with their change in the last step, θ and Δθ: one HTML table."""
    def change(a, b):
        if previous is None:
            return ""
        delta = b - a
        return ("+" if delta > 0 else "") + fmt(delta)

    rows = [("log p(X|θ)", state.loglik, change(previous.loglik, state.loglik) if previous else ""),
            ("F(θ, q)", state.F, change(previous.F, state.F) if previous else ""),
            ("KL(q ‖ p(Z|X,θ))", kl_of(state), change(kl_of(previous), kl_of(state)) if previous else "")]
    # the three values with the same decimals, F as log p − KL: log p − F = KL checks by eye
    shown = dict(zip((name for name, _, _ in rows), identity_texts(state.loglik, state.F)))
    body = "".join(f"<tr><td>{name}</td><td class='num'>{shown[name]}</td><td class='num'>{delta}</td></tr>"
                   for name, value, delta in rows)
    theta = html.escape(short_theta(state.theta))
    out = (f"<table class='numbers'><tr><th></th><th>value</th><th>last step</th></tr>{body}</table>"
           f"<div class='theta'>θ: {theta}</div>")
    if previous is not None:
        deltas = [f"{html.escape(k)} {short(np.asarray(v) - np.asarray(previous.theta[k]))}"
                  for k, v in state.theta.items() if not np.array_equal(v, previous.theta[k])]
        if deltas:
            out += f"<div class='theta'>Δθ in the last step: {'; '.join(deltas)}</div>"
    return out


def rate_line(rate: float | None, family=None) -> str:
    """The observed rate of convergence once it has settled (`settled_rate`), with what it tends
    to for this family; nothing while it is still moving."""
    if rate is None:
        return ""
    meaning = getattr(family, "rate_meaning", "") if family is not None else ""
    return (f"<div class='theta'>Rate |Δθ now| / |Δθ before| = {fmt(rate)} (settled; at the fixed point: "
            f"{html.escape(meaning or 'the rate of the EM map')})</div>")


def comparison_table(comparison) -> str:
    c = comparison
    e, v = c.exact.current, c.constrained.current
    rows = "".join(f"<tr><td>θ̂ ({html.escape(k)})</td><td>{short(e.theta[k])}</td><td>{short(v.theta[k])}</td>"
                   f"<td>{short(c.bias[k])}</td></tr>" for k in e.theta)
    return (f"<b>Fixed points from the same start</b> (exact EM: {c.runs[0].iterations} iterations; "
            f"{html.escape(c.family)}: {c.runs[1].iterations})"
            f"<table class='numbers'><tr><th></th><th>exact EM</th><th>{html.escape(c.family)}</th>"
            f"<th>bias Δθ</th></tr>{rows}"
            f"<tr><td>log p</td><td>{fmt(e.loglik)}</td><td>{fmt(v.loglik)}</td>"
            f"<td>{fmt(v.loglik - e.loglik)}</td></tr>"
            f"<tr><td>KL gap at θ̂</td><td>0</td><td>{fmt(kl_of(v))}</td><td></td></tr></table>")


def schedules_table(runs, left_out: dict[str, str]) -> str:
    """Work to come within reach of the best log p, which runs converged, and what was left out."""
    rows = []
    for run in runs:
        reached = run.passes_to_tol is not None
        work = (f"<td class='num'>{run.iterations_to_tol}</td><td class='num'>{run.passes_to_tol:.1f}</td>"
                if reached else "<td>not reached</td><td>–</td>")
        status = "converged" if run.converged else (
            f"did not converge in {run.session.current.passes:.0f} passes (stopped; drawn, not scaled to)")
        rows.append(f"<tr><td>{html.escape(run.schedule)}</td>{work}<td class='num'>"
                    f"{fmt(run.session.current.loglik)}</td><td>{status}</td></tr>")
    out = ("<b>Schedules from the same start</b>: work to come within 1e-6 of the best log p"
           "<table class='numbers'><tr><th>schedule</th><th>iterations</th><th>passes</th>"
           "<th>final log p</th><th></th></tr>" + "".join(rows) + "</table>")
    for name, why in left_out.items():
        out += f"<div class='note'>{html.escape(name)} left out: {html.escape(why)}</div>"
    return out


def preset_table(title: str, rows, caption: str = "") -> str:
    """The preset's caption, and ours beside the published numbers, with the difference."""
    body = "".join(f"<tr><td>{html.escape(r.quantity)}</td><td class='num'>{r.ours:.9g}</td>"
                   f"<td class='num'>{r.published:.9g}</td><td class='num'>{r.difference:+.2e}</td>"
                   f"<td>{html.escape(r.source)}</td></tr>" for r in rows)
    return (f"<b>{html.escape(title)}</b>" + (f"<div class='sentence'>{html.escape(caption)}</div>" if caption else "")
            + "Ours beside the source:"
            "<table class='numbers preset'><tr><th></th><th>ours</th><th>published</th><th>difference</th>"
            "<th>source</th></tr>" + body + "</table>")


def restarts_table(result) -> str:
    """The distinct fixed points of a restarts run, best first, with how many starts reached each."""
    rows = []
    for i, point in enumerate(result.fixed_points, start=1):
        theta = html.escape(short_theta(point.theta))
        merged = f" ({point.relabelled} relabelled)" if point.relabelled else ""
        rows.append(f"<tr><td class='num'>{i}</td><td class='num'>{fmt(point.loglik)}</td>"
                    f"<td class='num'>{point.count}{merged}</td><td>{theta}</td></tr>")
    starts = len(result.traces)
    return (f"<b>{starts} starts, {len(result.fixed_points)} distinct fixed point"
            f"{'s' if len(result.fixed_points) != 1 else ''}</b> (load one from the Restarts card)"
            "<table class='numbers'><tr><th>#</th><th>log p</th><th>starts</th><th>θ̂</th></tr>"
            + "".join(rows) + "</table>")


def checks_report(report) -> str:
    """The debugger's report with PASS/FAIL words (no emoji font needed)."""
    head = "All checks pass" if report.passed else "Some checks fail"
    lines = [f"<b>{head}</b> ({html.escape(report.setting)})<ul class='checks'>"]
    for c in report.checks:
        mark = (f"<span class='pass'>{PASS}</span>" if c.passed else f"<span class='fail'>{FAIL}</span>")
        lines.append(f"<li>{mark} {html.escape(c.name)}")
        if not c.passed:
            lines.append(f"<br>{html.escape(c.message)}<br><i>breaks {html.escape(c.breaks)}</i>")
            if c.raised:        # the model's code raised: its own frames only
                lines.append(f"<details><summary>your code's traceback</summary><pre>{html.escape(c.raised)}"
                             f"</pre></details>")
            if c.evidence and c.evidence.get("kind") == "per_point":
                worst = ", ".join(f"#{i} ({fmt(v)})" for i, v in c.evidence["worst"][:6])
                lines.append(f"<br>largest at points {html.escape(worst)}")
        lines.append("</li>")
    return "".join(lines) + "</ul>"
