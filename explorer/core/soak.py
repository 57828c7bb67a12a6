"""A soak: run every model × family × schedule it supports for many half steps and check the
numbers that must hold at every state (the test suite runs a short one, benchmarks/soak.py a
long one).

At every state: log p and F finite, KL = log p − F ≥ 0 up to rounding, and from the first E step
on (once every point's q has come from the family's E step) F never decreases by more than rounding (every family's E step maximises F over its set from
a q inside it, every schedule's M-type step raises F or keeps θ). A run may stop early only
with an ExplorerError, whose message a person can read; any other exception is a failure.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import ExplorerError
from .families import families_for, get_family
from .schedules import parse_schedule, schedules_for
from .session import Session

ROUNDING = 1e-9      # relative tolerance of "beyond rounding" (of |log p|, at least 1)


def combinations(models: dict, variants: bool = False) -> list[tuple[str, str, str]]:
    """Every (model, family, schedule) the models declare, from built models by name; with
    `variants`, each schedule in every spelling it declares (gradient steps, block sizes)."""
    out = []
    for name, model in models.items():
        for family in families_for(model):
            for schedule in schedules_for(model, get_family(family, model)):
                for spelling in parse_schedule(schedule).variants if variants else (schedule,):
                    out.append((name, family, spelling))
    return out


@dataclass
class SoakResult:
    half_steps: int = 0
    stopped: str = ""                     # the message a run stopped with ("" if it ran through)
    problems: list[str] = field(default_factory=list)


def soak(model, family: str, schedule: str, seed: int, half_steps: int) -> SoakResult:
    """Run `half_steps` half steps from `seed` and check every state (see the module doc)."""
    result = SoakResult()
    session = Session(model, family=family, schedule=schedule, seed=seed, keep_q=2)
    previous = session.current
    check_state(previous, None, result)
    # F rises from the first state whose q has all come from the family's E step (the starting
    # q may lie outside a constrained family: its first pass can lower F)
    settled = session.schedule_object.iterations_per_pass(session)
    for _ in range(half_steps):
        try:
            state = session.step()
        except ExplorerError as exc:
            result.stopped = str(exc)
            if not result.stopped.strip():
                result.problems.append("stopped with an empty message")
            break
        result.half_steps += 1
        check_state(state, previous if previous.e_steps >= settled else None, result)
        previous = state
        if len(result.problems) >= 3:
            break
    return result


def check_state(state, previous, result: SoakResult) -> None:
    where = f"state {state.index} ({state.kind}{': ' + state.detail if state.detail else ''})"
    if not (np.isfinite(state.loglik) and np.isfinite(state.F)):
        result.problems.append(f"{where}: log p = {state.loglik}, F = {state.F}")
        return
    tol = ROUNDING * max(1.0, abs(state.loglik))
    if state.kl < -tol:
        result.problems.append(f"{where}: KL = {state.kl:.3g} < 0")
    if previous is not None and state.F < previous.F - tol:
        result.problems.append(f"{where}: F fell by {previous.F - state.F:.3g}")
