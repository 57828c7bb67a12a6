"""The analyses of a screen beyond its steps: comparisons, restarts, basins and the debugger.

Each is an action that runs off the event loop (the state's `job`) and keeps its result value
here until the screen changes; each result is drawn by its own viewer. An analysis to come
(standard errors, BIC/ICL, ...) is one more method and one more result here.
"""
from __future__ import annotations

import json

import numpy as np

from ..core.basins import basins
from ..core.checks import check_model, compare_implementations
from ..core.compare import compare_schedules, compare_with_exact
from ..core.errors import ExplorerError
from ..core.families import FAMILIES, get_family
from ..core.model import coordinates, get_coordinate, theta_to_json
from ..core.restarts import run_restarts
from ..core.schedules import schedules_for, why_not
from .settings import schedule_text


def _raise(message):
    raise ExplorerError(message)


class Analyses:
    """The analyses' results on the screen of `state` (None: not run on this screen)."""

    def __init__(self, state):
        self.state = state
        self.clear()

    def clear(self):
        """The screen changed: no result holds for it any more."""
        self.comparison = None          # compare_with_exact: the constrained family against exact EM
        self.schedule_runs = None       # compare_schedules: one run per schedule
        self.schedules_left_out = {}    # the schedules chosen that cannot run here, with why
        self.restarts = None            # run_restarts: the local optima from many starts
        self.basins = None              # a basins map over two coordinates

    def fixed_points(self):
        """The compared fixed points along the plots' coordinate (label, value), for the plots."""
        if self.comparison is None:
            return ()
        key = self.state.coordinate
        return (("θ̂ exact EM", get_coordinate(self.comparison.exact.current.theta, key)),
                (f"θ̂ {self.comparison.family}", get_coordinate(self.comparison.constrained.current.theta, key)))

    def compare_with_exact(self):
        state = self.state
        if FAMILIES[state.family].closes_gap:
            return state.act(lambda: _raise("choose a constrained family of q to compare with exact EM"),
                             "The comparison failed")
        model, family, s = state.model, state.family, state.session

        def apply(comparison):
            self.comparison = comparison
            state.drawing.forget_window()
            return comparison
        return state.job("Comparing with exact EM",
                         lambda tick: compare_with_exact(model, family, s.theta0, s.frozen, s.seed), apply,
                         "The comparison failed")

    def compare_schedules(self, max_passes: float = 500.0):
        state = self.state
        family = get_family(state.family, state.model)
        runnable = schedules_for(state.model, family)
        left_out = {name: why_not(name, state.model, family) for name in state.compared if name not in runnable}
        chosen = [schedule_text(state.values(), name) for name in state.compared if name in runnable]
        if not chosen:
            return state.act(lambda: _raise("choose at least one schedule that runs here: " +
                                            "; ".join(f"{k}: {v}" for k, v in left_out.items())),
                             "The comparison of schedules failed")
        model, s, family_name = state.model, state.session, state.family

        def apply(runs):
            self.schedule_runs, self.schedules_left_out = runs, left_out
            with state.quiet():
                state.trace_axis = "passes through the data"
            return runs
        return state.job("Comparing schedules",
                         lambda tick: compare_schedules(model, chosen, s.theta0, s.frozen, s.seed, family_name,
                                                        max_passes=max_passes), apply,
                         "The comparison of schedules failed")

    def run_restarts(self):
        """EM from `restart_count` seeded starts (seed, seed + 1, …): the distinct fixed points."""
        state = self.state
        model, count, seed, family, frozen = state.model, state.restart_count, state.seed, state.family, \
            state.session.frozen

        def apply(result):
            self.restarts = result
            return result
        return state.job("Restarts", lambda tick: run_restarts(model, count, seed=seed, family=family, frozen=frozen,
                                                               progress=tick),
                         apply, "The restarts failed", cancellable=True)

    def basins_keys(self) -> tuple[str, str]:
        """The map's two coordinates: the one in the plots, and the next free one (for a mixture's
        means[0], means[1])."""
        state = self.state
        keys = [k for k in coordinates(state.model.params())
                if k.split("[")[0] not in state.session.frozen and k not in state.session.frozen]
        first = state.coordinate if state.coordinate in keys else keys[0]
        name = first.split("[")[0]
        same = [k for k in keys if k.split("[")[0] == name and k != first]
        others = [k for k in keys if k != first]
        if not others:
            raise ExplorerError("a basins map needs two free coordinates")
        return first, (same or others)[0]

    def run_basins(self, grid: int = 40):
        """Which fixed point EM reaches from each start on a grid over two coordinates (the
        rest of the current θ held)."""
        state = self.state
        try:
            keys = self.basins_keys()
        except ExplorerError as exc:
            message = str(exc)       # said through act, as every failure of an action is
            return state.act(lambda: _raise(message), "The basins map failed")
        model, theta = state.model, dict(state.session.current.theta)

        def apply(result):
            self.basins = result
            return result
        return state.job("Basins map", lambda tick: basins(model, theta, keys, grid=grid, progress=tick), apply,
                         "The basins map failed", cancellable=not callable(getattr(model, "em_many", None)))

    def load_fixed_point(self, number: int):
        """Start the session from fixed point `number` (1 = the best) of the last restarts."""
        state = self.state
        if self.restarts is None or not 1 <= number <= len(self.restarts.fixed_points):
            count = 0 if self.restarts is None else len(self.restarts.fixed_points)
            state.message = f"there is no fixed point {number} to load (run the restarts; they found {count})"
            return False
        theta = self.restarts.fixed_points[number - 1].theta
        restarts = self.restarts
        done = state.set(theta0=json.dumps(theta_to_json(theta)))
        self.restarts = restarts          # the table stays, so another can be loaded
        return done

    def run_checks(self, then=None):
        """The EM debugger on the current model (explorer.core.checks); the report, or None
        (`then(report)` is told it, also when it ran off the event loop)."""
        model, seed = self.state.model, self.state.seed
        return self.state.job("The checks", lambda tick: check_model(model, seed=seed), lambda report: report,
                              "The checks could not run", then)

    def second_implementations(self) -> list[str]:
        """The models that can be held against this one (`ModelSources.second_implementations`)."""
        return self.state.sources.second_implementations(self.state.model)

    def compare_implementations(self, name: str, then=None):
        """`check --against` in the app: log p, the posterior and the M step of this model and
        of `name`'s on the same data and θs, with the first coordinate where they disagree."""
        state = self.state
        cls = state.sources.implementation(name)
        if cls is None:
            state.message = f"no model {name!r} to compare with"
            return None
        model, seed = state.model, state.seed
        return state.job("Comparing the implementations",
                         lambda tick: compare_implementations(model, cls(np.asarray(model.data)), seed=seed),
                         lambda report: report, "The comparison could not run", then)
