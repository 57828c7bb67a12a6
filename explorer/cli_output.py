"""What the command line prints: its results as strict JSON (no NaN or ∞) or as text tables."""
from __future__ import annotations

import json
import sys

from .core.families import get_family
from .export import without_non_finite
from .shown import fmt
from .text import em_map_rate_said


def finite_json(value):
    """`value` with every non-finite number written as null (JSON has no NaN or ∞), and a
    warning on stderr naming where (e.g. states[0].loglik: −∞ when θ sits on the edge of its
    range)."""
    found = []
    out = without_non_finite(value, found)
    if found:
        print(f"warning: {len(found)} value(s) are not finite and are written as null: "
              f"{', '.join(found[:5])}{', ...' if len(found) > 5 else ''}", file=sys.stderr)
    return out


def render_text(result: dict) -> str:
    if "text" in result:
        return result["text"].rstrip("\n")
    if "written" in result:
        return f"wrote {result['states']} states as {result['format']} to {result['written']}"
    if "report" in result:
        return result["report"]
    if "models" in result:
        lines = []
        for m in result["models"]:
            params = ", ".join(f"{p['name']}{p['shape'] or ''}" for p in m["parameters"])
            lines.append(f"{m['name']:8s} {m['title']}\n         parameters: {params}\n"
                         f"         data sets: {', '.join(m['datasets'])}")
        return "\n".join(lines)
    if "fixed_points" in result:
        lines = [f"{result['starts']} starts reached {len(result['fixed_points'])} distinct fixed point(s):",
                 f"{'#':>3} {'log p':>16} {'starts':>6} {'relabelled':>10}  theta"]
        for i, p in enumerate(result["fixed_points"], start=1):
            lines.append(f"{i:3d} {p['loglik']:16.8f} {p['count']:6d} {p['relabelled']:10d}  "
                         f"{json.dumps(p['theta'])[:90]}")
        return "\n".join(lines)
    if "iterations" in result and "rows" in result:
        lines = [f"{result['model']} on {result['rows']:,} rows in chunks of {result['chunk_rows']:,}",
                 f"{'iter':>5} {'log p (at the θ it started from)':>34} {'seconds':>8}  theta"]
        lines += [f"{s['iteration']:5d} {s['loglik']:34.10f} {s['seconds']:8.2f}  {json.dumps(s['theta'])[:70]}"
                  for s in result["iterations"]]
        return "\n".join(lines)
    if "states" in result:
        lines = [f"{'step':>5} {'kind':4} {'log p':>16} {'F':>16} {'KL':>12} {'rate':>8}  theta"]
        for s in result["states"]:
            theta = json.dumps(s["theta"])
            rate = "" if s.get("rate") is None else f"{s['rate']:.4f}"
            lines.append(f"{s['index']:5d} {s['kind']:4} {s['loglik']:16.8f} {s['F']:16.8f} "
                         f"{s['kl']:12.3e} {rate:>8}  {theta[:70]}")
            lines += [f"      warning: {w}" for w in s["warnings"]]
        if "readout" in result:
            lines.append(readout_line(result["readout"]))
        if "em_map_rate" in result:
            lines.append(em_map_rate_said(result["em_map_rate"], get_family(result.get("family", "exact"))))
        return "\n".join(lines)
    if "slice" in result:
        b = result["slice"]
        lines = [f"bound along {result['param']} at {b['current']:.6g}; M-step target {b['m_target']:.6g}",
                 f"{'t':>14} {'log p':>16} {'F(t, q now)':>16}"]
        lines += [f"{t:14.6g} {lp:16.8f} {f:16.8f}" for t, lp, f in zip(b["t"], b["loglik"], b["F"])]
        return "\n".join(lines)
    if "bias" in result:
        e, c = result["exact"], result["constrained"]
        return "\n".join([
            f"{'':12s} {'exact EM':>24s} {result['family']:>24s}",
            f"{'log p':12s} {e['loglik']:24.8f} {c['loglik']:24.8f}",
            f"{'KL gap':12s} {0.0:24.8f} {c['kl_gap']:24.8f}",
            f"{'iterations':12s} {e['iterations']:24d} {c['iterations']:24d}",
            *(f"{k:12s} {json.dumps(e['theta'][k])[:24]:>24s} {json.dumps(c['theta'][k])[:24]:>24s}"
              for k in e["theta"])])
    return json.dumps(result, indent=1)


def readout_line(readout: dict) -> str:
    """The current state's numbers as the app and the standalone page write them (explorer.shown)."""
    shown = readout["shown"]
    kind = {"init": "the start", "E": "after an E step", "M": "after an M step"}[readout["kind"]]
    rate = "" if readout["rate"] is None else f"; rate {fmt(readout['rate'])} (settled)"
    return f"now (state {readout['index']}, {kind}): log p = {shown['loglik']}, F = {shown['F']}, KL = {shown['kl']}{rate}"
