"""A session's history as data: the CLI's trace JSON and a flat CSV, the same for the CLI
(`trace --json`, `export`) and the app's download buttons."""
from __future__ import annotations

import csv
import io
import json
import math

from .core.convergence import rates
from .core.model import coordinates, get_coordinate
from .core.readout import readout
from .shown import texts_of

# the plots that explorer.plots.figure lays out, in order ("trace" there: log p and F; "kl": the gap)
PLOTS = ("data", "bound", "landscape", "trace", "kl", "identity")


def trace_json(session) -> dict:
    """The states up to the current one (θ, log p, F, KL, warnings, the observed rate), with the
    model, family, schedule and frozen parameters, and the current state's readout (its numbers
    as the app shows them, and their texts): the format of `trace --json`."""
    return {"model": session.model.name, "family": session.family,
            "schedule": session.schedule_object.describe(), "frozen": sorted(session.frozen),
            "states": [{**s.to_json(), "rate": r} for s, r in zip(session.states, rates(session.states))],
            "readout": readout_json(readout(session))}


def readout_json(r) -> dict:
    """A `core.readout.Readout` as JSON, with "shown": log p, F and KL as the screen writes them."""
    shown = texts_of(r)
    return {**r.to_json(), "shown": {"loglik": shown.loglik, "F": shown.F, "kl": shown.kl}}


def trace_csv(session) -> str:
    """One row per state: index, kind, log p, F, KL, passes, rate, stalled, then every scalar
    coordinate of θ as its own column (means[0], covariances[0,0,1], ...). A value that is not
    finite is written as an empty cell."""
    keys = coordinates(session.model.params())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["index", "kind", "loglik", "F", "kl", "passes", "rate", "stalled", "detail", *keys])
    for state, rate in zip(session.states, rates(session.states)):
        values = [state.loglik, state.F, state.kl, state.passes, rate]
        writer.writerow([state.index, state.kind, *(_cell(v) for v in values), int(state.stalled), state.detail,
                         *(_cell(get_coordinate(state.theta, k)) for k in keys)])
    return out.getvalue()


def _cell(value) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return repr(float(value))


def without_non_finite(value, found: list | None = None, where: str = ""):
    """`value` (dicts, lists, numbers) with every non-finite number replaced by None, as JSON
    has no NaN or ∞; where each was is appended to `found` (e.g. "states[0].loglik = -inf")."""
    if isinstance(value, dict):
        return {k: without_non_finite(v, found, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_non_finite(v, found, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        if found is not None:
            found.append(f"{where} = {value}")
        return None
    return value


def trace_json_text(session) -> str:
    """trace_json as strict JSON text (non-finite numbers as null)."""
    return json.dumps(without_non_finite(trace_json(session)), indent=1, allow_nan=False)
