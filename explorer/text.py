"""The words and tables of a screen, as pure functions of the numbers (HTML strings): the
app's numbers panel and the standalone page write the same ones.

Every sentence is chosen from the actual signs of the changes it describes and from the family
of q: "rose" only when the number rose, "closes the gap" only where the family can close it.
No Panel here: the tests call these directly.
"""
from __future__ import annotations

import html

import numpy as np

from .core.readout import Readout, difference_shown, kl_shown, readout_of, rounding
from .shown import fmt, identity_texts, short, short_theta, texts, texts_of  # noqa: F401 - identity_texts: for tests

# Formulas in Unicode HTML (no KaTeX: it renders slowly on every step and needs a font).
FORMULAS = {
    "init": "F(θ, q) = E<sub>q</sub>[log p(X, Z | θ)] + H(q) = log p(X | θ) − KL(q ‖ p(Z | X, θ))",
    "E-exact": "E step: q(Z) ← argmax<sub>q</sub> F(θ, q) = p(Z | X, θ)",
    "E-family": "E step: q ← argmax<sub>q ∈ Q′</sub> F(θ, q); KL(q ‖ p(Z | X, θ)) > 0 remains",
    "M": "M step: θ ← argmax<sub>θ</sub> F(θ, q) = argmax<sub>θ</sub> E<sub>q</sub>[log p(X, Z | θ)]",
}
PASS, FAIL = "PASS", "FAIL"     # words, not emoji: a lecture hall's machine may lack the font


def moved(name: str, before: float, after: float, before_text: str, after_text: str) -> str:
    """'F rose from a to b', 'F fell from a to b' or 'F stayed at b', from the sign. a and b are
    the two states' own texts (as their tables and legends write them); where the two texts are
    equal, the change is given instead ("rose by 3.2e−09 to b": never "rose from −1034 to −1034")."""
    if difference_shown(after, before) == 0:
        return f"{name} stayed at {after_text}"
    verb = "rose" if after > before else "fell"
    if before_text != after_text or not (np.isfinite(before) and np.isfinite(after)):
        return f"{name} {verb} from {before_text} to {after_text}"
    return f"{name} {verb} by {fmt(abs(after - before))} to {after_text}"


def kl_of(state) -> float:
    """The state's KL as shown: 0 where it is rounding (`kl_shown`)."""
    return kl_shown(state.loglik, state.F)


def start_sentence(state, family) -> str:
    return start_words(readout_of(state), family)


def start_words(r: Readout, family) -> str:
    if family.closes_gap:
        close = "An E step closes the gap: q becomes the posterior and F touches log p."
    elif family.holds_the_start:
        close = (f"An E step within {family.title} narrows the gap as far as the family allows, "
                 f"but cannot close it: {family.why_gap}.")
    else:      # the first E step moves q into the family, where F may be lower than the start's
        close = (f"The start's q is not one of {family.title}: the first E step puts q in the family, where F "
                 f"can fall below the start's, and the gap cannot close: {family.why_gap}.")
    t = texts_of(r)
    return (f"Start: θ⁰ and a q that ignores the data, so F = {t.F} lies below "
            f"log p = {t.loglik} by KL = {t.kl}. {close}")


def step_sentence(previous, current, family) -> str:
    """What the step from `previous` to `current` did, and why (`sentence` of their Readout)."""
    return sentence(readout_of(current, previous), family)


def sentence(r: Readout, family) -> str:
    """What the step into the state of `r` did, and why; verbs follow the signs, numbers are
    the readout's texts (explorer.shown)."""
    step = r.step
    if step is None:
        return start_words(r, family)
    t, b = texts_of(r), texts(step.previous_loglik, step.previous_F)      # now and before, as each state's table
    f_words = moved("F", step.previous_F, r.F, b.F, t.F)
    kl_words = moved("KL", step.previous_kl, r.kl, b.kl, t.kl)
    if r.kind == "E":
        if step.partial:
            return (f"Partial E step ({step.detail or 'part of q'}): q moves toward the family's best "
                    f"for some latent variables only, so {f_words} and {kl_words}; θ did not move.")
        if family.closes_gap:
            return (f"E step: q ← p(Z|X,θ), so {kl_words} and {f_words}, touching log p = "
                    f"{t.loglik}; θ did not move.")
        note = "" if r.F >= step.previous_F - rounding(step.previous_F, r.F) else (
            " (F can fall here: the q before was not in the family, so this E step is a projection "
            "onto it, not an ascent)")
        how = f" ({step.detail})" if step.detail else ""
        return (f"E step within {family.title}{how}: q ← the family's best q, so {f_words}{note}; "
                f"KL is {t.kl}, not 0: {family.why_gap}.")
    what = step.detail or "θ ← argmax F(θ, q)"
    logp_words = moved("log p", step.previous_loglik, r.loglik, b.loglik, t.loglik)
    if step.theta_change <= 1e-9:
        gap = ("" if family.closes_gap else
               f" The KL of {t.kl} that remains is the family's own gap: {family.why_gap}.")
        return (f"M step ({what}) with q held: θ did not move (a fixed point), so {f_words} and "
                f"{logp_words}: θ already maximises F(θ, q) for this q.{gap}")
    if family.closes_gap and step.partial:
        why = ("because q was fitted block by block to earlier θs: each partial E step narrows it"
               if r.kl > rounding(r.loglik) else "")
    elif family.closes_gap:
        why = ("because q was fitted to the old θ, not the new one: the next E step closes it"
               if r.kl > rounding(r.loglik) else "")
    else:               # the family's reason stands in a sentence of its own (in parentheses,
        why = ("partly because q was fitted to the old θ (the next E step takes that part away) and "
               "partly the family's own gap, which no E step closes")      # it ran into the clause)
    kl_sentence = f"KL is now {t.kl}" + (f", {why}" if why else "")
    gap = "" if family.closes_gap else f" The family's gap: {family.why_gap}."
    return f"M step ({what}) with q held: {f_words} and {logp_words}; {kl_sentence}.{gap}"


def formula(state, family) -> str:
    """The formula of the step into `state` (a State or a Readout)."""
    if state.kind == "init":
        return FORMULAS["init"]
    if state.kind == "E":
        return FORMULAS["E-exact"] if family.closes_gap else FORMULAS["E-family"]
    return FORMULAS["M"]


def status_line(position: int, last: int, state, family) -> str:
    kind = {"init": "start", "E": "after an E step", "M": "after an M step"}[state.kind]
    return f"<b>State {position} of {last}</b> ({kind}; family: {html.escape(family.title)})"


def numbers_table(state, previous) -> str:
    """log p, F and KL with their change in the last step, θ and Δθ (`table` of their Readout)."""
    return table(readout_of(state, previous))


def table(r: Readout) -> str:
    """log p, F and KL with their change in the last step, θ and Δθ: one HTML table. The three
    values are the readout's texts: the same decimals, F as log p − KL, so log p − F = KL checks
    by eye."""
    step = r.step

    def change(before, after):
        if step is None:
            return ""
        delta = difference_shown(after, before)     # 0 where the sentence says "stayed at"
        return ("+" if delta > 0 else "") + fmt(delta)

    t = texts_of(r)
    rows = [("log p(X|θ)", t.loglik, change(step.previous_loglik, r.loglik) if step else ""),
            ("F(θ, q)", t.F, change(step.previous_F, r.F) if step else ""),
            ("KL(q ‖ p(Z|X,θ))", t.kl, change(step.previous_kl, r.kl) if step else "")]
    body = "".join(f"<tr><td>{name}</td><td class='num'>{shown}</td><td class='num'>{delta}</td></tr>"
                   for name, shown, delta in rows)
    theta = html.escape(short_theta(r.theta))
    out = (f"<table class='numbers'><tr><th></th><th>value</th><th>last step</th></tr>{body}</table>"
           f"<div class='theta'>θ: {theta}</div>")
    if step is not None and step.theta_delta:
        deltas = [f"{html.escape(k)} {short(v)}" for k, v in step.theta_delta.items()]
        out += f"<div class='theta'>Δθ in the last step: {'; '.join(deltas)}</div>"
    return out


def em_map_rate_said(rate: float, family=None) -> str:
    """The EM map's rate at a fixed point θ̂ in words (plain text). At most 1, it is what the
    family says it is (exact EM: the largest fraction of missing information, DLR 1977). Above
    1, θ̂ is not stable: a saddle of log p that EM reached along a set its map cannot leave (two
    mixture components that are equal stay equal), and pushed off it EM climbs on."""
    meaning = getattr(family, "rate_meaning", "") or "the rate of the EM map"
    if rate <= 1:
        return f"The EM map's rate at θ̂ ({meaning}) is {fmt(rate)}."
    return (f"The EM map's rate at θ̂ is {fmt(rate)}, above 1: θ̂ is not a maximum but a saddle that EM reached "
            "along a set it cannot leave (e.g. two components that are equal stay equal; a settled rate "
            "|Δθ now| / |Δθ before| below 1 is EM's within that set); pushed off it, EM climbs on (Restarts "
            "find the maxima).")


def rate_line(rate: float | None, family=None) -> str:
    """The observed rate of convergence once it has settled (`settled_rate`), with what it tends
    to for this family; nothing while it is still moving."""
    if rate is None:
        return ""
    meaning = getattr(family, "rate_meaning", "") if family is not None else ""
    return (f"<div class='theta'>Rate |Δθ now| / |Δθ before| = {fmt(rate)} (settled; at the fixed point: "
            f"{html.escape(meaning or 'the rate of the EM map')})</div>")


def gap_line(r: Readout) -> str:
    """log p below exact EM's fixed point, when a comparison is known; nothing otherwise."""
    if r.gap_to_exact is None:
        return ""
    return (f"<div class='theta'>log p(θ̂ of exact EM) − log p now = {fmt(r.gap_to_exact)} "
            f"(from the comparison with exact EM)</div>")


NOT_FINITE = ("log p or F is not finite at this θ (θ on the boundary of its range, or q puts mass where the data "
              "are impossible); KL cannot be read here. Take an E step, or start from another θ.")


def warnings_html(r: Readout) -> str:
    """The state's warnings, and one when log p or F is not finite."""
    found = list(r.warnings) + ([] if r.finite else [NOT_FINITE])
    return "".join(f"<div class='warning'>Warning: {html.escape(w)}</div>" for w in found)


def readout_block(r: Readout, family, position: int, last: int) -> str:
    """A state's whole readout: where it is, the step's sentence and formula, the numbers, the
    rate once settled, the gap to exact EM when known, and the warnings."""
    return (f"<div class='status'>{status_line(position, last, r, family)}</div>"
            f"<div class='sentence'>{html.escape(sentence(r, family))}</div>"
            f"<div class='formula'>{formula(r, family)}</div>"
            + table(r) + rate_line(r.rate, family) + gap_line(r) + warnings_html(r))


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
    """The preset's caption, and ours beside the reference numbers (published, a closed form or the data's
    own moments: the source column says which), with the difference."""
    def minus(text):                 # a real minus, as every other number on the screen
        return text.replace("-", "−")

    def like(value, published):      # ours to 9 digits, and at least the reference's decimals:
        text = f"{value:.9g}"        # 0.624321050 beside 0.624321051, not 0.62432105
        want, have = published.partition(".")[2], text.partition(".")[2]
        return f"{value:.{len(want)}f}" if want.isdigit() and have.isdigit() and len(want) > len(have) else text
    body = "".join(f"<tr><td>{html.escape(r.quantity)}</td><td class='num'>{minus(like(r.ours, f'{r.published:.9g}'))}</td>"
                   f"<td class='num'>{minus(f'{r.published:.9g}')}</td><td class='num'>{minus(f'{r.difference:+.2e}')}"
                   f"</td><td>{html.escape(r.source)}</td></tr>" for r in rows)
    return (f"<b>{html.escape(title)}</b>" + (f"<div class='sentence'>{html.escape(caption)}</div>" if caption else "")
            + "Ours beside the source:"
            "<table class='numbers preset'><tr><th></th><th>ours</th><th>reference</th><th>difference</th>"
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


CHECKS_SAID = "Checks (EM debugger):"


def checks_verdict(report) -> str:
    """The debugger's verdict in a line, for where the eye is (the numbers panel)."""
    failed = [c.name for c in report.checks if not c.passed]
    n = len(report.checks)
    return (f"the checks pass ({n}/{n})" if not failed else
            f"FAIL: {'; '.join(failed)} (the Checks card says why)")


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
