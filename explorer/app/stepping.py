"""Stepping a session further than one half step: a run to convergence that says how it ended,
and Play's rule for when to stop."""
from __future__ import annotations

from ..core.convergence import em_map_rate, theta_vector
from ..text import em_map_rate_said

CONVERGED = 1e-10          # Play stops when an iteration changes log p by no more than this


class RunCancelled(Exception):
    """A run to convergence stopped by the user (Cancel)."""

    def __init__(self, iterations: int):
        super().__init__(f"cancelled after {iterations} iterations")
        self.iterations = iterations


def converge(session, tol: float = 1e-8, max_iterations: int = 500, progress=None, cancelled=None):
    """Iterate `session` to convergence (Session.run): (the run's result or None if cancelled,
    a sentence on how it ended). `progress(iteration, state)` is told of each iteration; when
    `cancelled()` turns true the run stops there, keeping the iterations it took."""
    def tick(iteration, state):
        if progress is not None:
            progress(iteration, state)
        if cancelled is not None and cancelled():
            raise RunCancelled(iteration)

    try:
        result = session.run(tol=tol, max_iterations=max_iterations, progress=tick)
    except RunCancelled as stop:
        return None, f"Run to convergence: cancelled after {stop.iterations} iterations."
    outcome = ("converged" if result.converged else "stalled (the gain fell below rounding)"
               if result.stalled else "stopped before converging")
    said = f"Run to convergence: {outcome} after {result.iterations} iterations (|Δ log p| ≤ {tol:g})."
    if result.converged and session.schedule_object.em_map and theta_vector(session.current.theta).size <= 60:
        rate = em_map_rate(session.model, session.current.theta, session.frozen, session.family_object)
        said += " " + em_map_rate_said(rate, session.family_object)
    return result, said


def play_goes_on(before, state) -> bool:
    """Whether Play takes another half step after `state` (it stops once an E–M iteration
    changed log p by no more than CONVERGED)."""
    return not (state.kind == "M" and before.kind == "E" and not state.partial
                and abs(state.loglik - before.loglik) <= CONVERGED)
