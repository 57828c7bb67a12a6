"""The stepping engine: immutable states, a history, undo and redo.

A session holds a model, a family of q, a schedule and a set of frozen parameters. Each half
step makes a new `State` (θ, q and the values log p, F, KL) and appends it to the history; undo
and redo move an index. A step taken after an undo drops the states that were ahead (as an
editor does).

    E step:  q ← argmax_{q ∈ family} F(θ, q)       (the posterior, for the exact family)
    M step:  θ ← argmax_θ F(θ, q) = argmax_θ E_q[log p(X, Z | θ)], frozen parameters held

The schedule (schedules.py) decides what the E and M steps are (a block of points, a block of
parameters, a gradient step) and which comes next.

A half step is refused with an ExplorerError, and the session left as it was, when it would
take θ off the space the model's M step keeps to (`Model.collapsed`, e.g. a mixture component
collapsing onto one point; only a gradient step can, and `Gradient.m_step` checks it) or turn
finite log p and F into non-finite ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .convergence import Stopping
from .errors import ExplorerError, ModelValueError
from .families import get_family
from .model import Model, q_arrays, require_finite, theta_to_json
from .objective import Objective
from .schedules import Update, parse_schedule


HISTORY_BUDGET = 512 * 2**20    # bytes of q that one session's history may hold by default


def q_bytes(q) -> int:
    """The memory a q holds: an array, or an object of arrays (such as GaussianQ)."""
    return sum(a.nbytes for a in q_arrays(q))


def states_to_keep(q, budget: int | None) -> int | None:
    """How many recent states keep their q within `budget` bytes (None: all of them). Undo
    reaches back that far; the trace still shows every state's numbers."""
    if budget is None:
        return None
    return max(2, budget // max(q_bytes(q), 1))


KL_ROUNDING = 1e-7   # KL = log p − F below −KL_ROUNDING·(1 + |log p|) is not rounding: key result 2 fails


def q_is_finite(q) -> bool:
    """Every number in q (an array, or an object of arrays such as GaussianQ) is finite."""
    return all(np.all(np.isfinite(a)) for a in q_arrays(q))


def checked_values(model, theta, q, q_from: str = "the q given", entropy: float | None = None,
                   loglik: float | None = None) -> Objective:
    """log p(X | θ), F(θ, q) = E_q log p + H(q) and H(q), each checked: a NaN or +∞ (or a
    −∞ where no bound allows it) raises ModelValueError naming the method that produced it and
    θ; a q that is not finite is blamed on `q_from`, the method that made it. log p = −∞ and
    E_q log p = −∞ are values (θ makes the data, or q's classes, impossible)."""
    if loglik is None:
        loglik = require_finite(model.loglik(theta), "loglik(θ)", theta, minus_inf_ok=True,
                                meaning=" for log p(X | θ)")
    if entropy is None:
        entropy = model.entropy(q)
    ecll = model.expected_complete_loglik(theta, q)
    if not np.isfinite(entropy) or np.isnan(ecll) or ecll == np.inf:
        if not q_is_finite(q):
            raise ModelValueError(q_from, "gave a q with entries that are NaN or ±∞", theta)
        require_finite(entropy, "entropy(q)", theta, meaning=" for H(q) of a finite q")
        require_finite(ecll, "expected_complete_loglik(θ, q)", theta, minus_inf_ok=True,
                       meaning=" for E_q[log p(X, Z | θ)] of a finite q")
    return Objective(loglik, ecll + entropy, entropy)


def kl_warning(loglik: float, F: float) -> str | None:
    """The warning for KL = log p − F below zero beyond rounding (key result 2 broken), or None."""
    if np.isfinite(loglik) and np.isfinite(F) and F - loglik > KL_ROUNDING * (1 + abs(loglik)):
        return (f"KL = {loglik - F:.6g} < 0: F is above log p, which breaks key result 2 (F ≤ log p for every "
                f"q); loglik(), posterior(), expected_complete_loglik() or entropy() disagree "
                f"(python -m explorer check names which)")
    return None


Q_MADE_BY = {"init": "initial_q(θ)", "E": "the E step (posterior(θ) for the exact family)"}


@dataclass(frozen=True)
class State:
    index: int
    kind: str                    # "init", "E" or "M"
    theta: dict
    q: Any
    loglik: float
    F: float
    entropy: float               # H(q), so that F = E_q[log p(X, Z | θ)] + H(q) can be shown
    warnings: tuple[str, ...] = ()
    detail: str = ""             # what the step did beyond its kind, e.g. "1 sweep of coordinate ascent"
    passes: float = 0.0          # work so far, in passes through the data (see schedules.py)
    partial: bool = False        # q is not the family's full E step at any θ (a partial E step)
    stats: Any = None            # running sufficient statistics of q, when a schedule keeps them
    stalled: bool = False        # an M-type step whose gain in F was below rounding (gradient)
    e_steps: int = 0             # E steps so far (incremental EM's next block follows from it)
    m_steps: int = 0             # M-type steps so far (ECM's next block follows from it)

    @property
    def kl(self) -> float:
        return self.loglik - self.F

    def to_json(self) -> dict:
        return {"index": self.index, "kind": self.kind, "theta": theta_to_json(self.theta),
                "loglik": self.loglik, "F": self.F, "kl": self.kl, "warnings": list(self.warnings),
                "detail": self.detail, "passes": self.passes, "stalled": self.stalled}


@dataclass(frozen=True)
class RunResult:
    iterations: int
    converged: bool
    stalled: bool = False        # the M step's gain fell below rounding: stopped, not converged


@dataclass
class Session:
    model: Model
    theta0: dict | None = None
    family: str = "exact"
    frozen: frozenset | None = None
    seed: int = 0
    schedule: str = "em"
    keep_q: int | None = None    # keep q (and its statistics) in the last keep_q states only;
                                 # None: as many as `history_budget` bytes of q allow
    history_budget: int | None = HISTORY_BUDGET
    history: list[State] = field(init=False, default_factory=list)
    position: int = field(init=False, default=0)
    earliest: int = field(init=False, default=0)   # states before it have dropped their q (keep_q)

    def __post_init__(self):
        self.family_object = get_family(self.family, self.model)
        self.schedule_object = parse_schedule(self.schedule)
        schedule_ok = self.schedule_object.supports(self.model) and \
            self.family_object.supports_schedule(self.schedule_object)
        if not schedule_ok:
            raise ExplorerError(f"schedule {self.schedule!r} is not available for model {self.model.name} "
                                f"with family {self.family!r}")
        self.frozen = self.model.check_frozen(self.model.default_frozen() if self.frozen is None else self.frozen)
        if not self.schedule_object.supports_frozen(self.frozen):
            raise ExplorerError(f"schedule {self.schedule!r} freezes whole parameters only, not "
                                f"{', '.join(sorted(k for k in self.frozen if '[' in k))}")
        self.reset(self.theta0, self.seed)

    # ----- the history ----------------------------------------------------------------------------
    @property
    def current(self) -> State:
        return self.history[self.position]

    @property
    def states(self) -> list[State]:
        """The states up to and including the current one."""
        return self.history[: self.position + 1]

    def reset(self, theta0: dict | None = None, seed: int | None = None) -> State:
        """Start again from θ0 (any subset of keys; the rest seeded) and the model's starting q."""
        self.theta0, self.seed = theta0, self.seed if seed is None else seed
        theta = self.model.start_theta(self.seed, theta0)
        self.history = []           # so that the first state is made from nothing before it
        self.history = [self._make_state(0, Update("init", theta, self.model.initial_q(theta), partial=True))]
        self.position = self.earliest = 0
        if self.keep_q is None:
            self.keep_q = states_to_keep(self.current.q, self.history_budget)
        return self.current

    def undo(self) -> State:
        self.position = max(self.earliest, self.position - 1)
        return self.current

    def redo(self) -> State:
        self.position = min(len(self.history) - 1, self.position + 1)
        return self.current

    def go_to(self, index: int) -> State:
        self.position = min(max(self.earliest, int(index)), len(self.history) - 1)
        return self.current

    @property
    def history_note(self) -> str:
        """What the history budget holds back, once it does ("" before that)."""
        if self.earliest == 0:
            return ""
        size = q_bytes(self.current.q) if self.current.q is not None else 0
        budget = "" if self.history_budget is None else f" within the history budget of {self.history_budget / 2**20:.0f} MiB"
        return (f"undo reaches back {self.keep_q} states: each q takes {size / 2**20:.1f} MB, so only the last "
                f"{self.keep_q} keep theirs{budget} (the trace keeps every state's numbers)")

    @property
    def can_undo(self) -> bool:
        return self.position > self.earliest

    @property
    def can_redo(self) -> bool:
        return self.position < len(self.history) - 1

    # ----- steps ---------------------------------------------------------------------------------
    def e_step(self) -> State:
        """The schedule's E step (all points, or its next block of points)."""
        return self._push(self.schedule_object.e_step(self))

    def m_step(self) -> State:
        """The schedule's M-type step (the M step, the next CM block, or a gradient step)."""
        s = self.current
        if s.stats is not None:
            self.model.remember_stats(s.q, s.stats)
        return self._push(self.schedule_object.m_step(self))

    def step(self) -> State:
        """The schedule's next half step (what Play does)."""
        return self.e_step() if self.schedule_object.next_is_e(self) else self.m_step()

    def iterate(self) -> State:
        """One iteration: an E step and the schedule's M-type steps after it."""
        self.e_step()
        for _ in range(self.schedule_object.m_steps_per_iteration(self)):
            state = self.m_step()
        return state

    def run(self, tol: float = 1e-8, max_iterations: int = 1000, theta_tol: float = 1e-9,
            progress=None) -> RunResult:
        """Iterations until the fixed point is reached (convergence.Stopping): over one pass
        through the data (one iteration, except for incremental EM, whose pass is N/B
        iterations) log p moves by at most `tol`, Aitken's estimate of its limit is within
        `tol`, and θ's estimated distance to its limit is within `theta_tol` of θ's size.
        `progress(iteration, state)`, if given, is called after every iteration."""
        if not (tol > 0 and theta_tol > 0) or max_iterations < 1:
            raise ExplorerError("need tol > 0, theta_tol > 0 and max_iterations >= 1")
        every = self.schedule_object.iterations_per_pass(self)
        stopping = Stopping(tol, theta_tol)
        stopping.add(self.current.theta, self.current.loglik)
        for iteration in range(1, max_iterations + 1):
            state = self.iterate()
            if progress is not None:
                progress(iteration, state)
            if state.stalled:      # F cannot tell the next θ from this one: no claim of convergence
                return RunResult(iteration, False, stalled=True)
            if iteration % every == 0 and stopping.add(state.theta, state.loglik):
                return RunResult(iteration, True)
        return RunResult(max_iterations, False)

    def _push(self, update) -> State:
        state = self._make_state(self.position + 1, update)
        del self.history[self.position + 1:]
        self.history.append(state)
        self.position += 1
        while self.keep_q is not None and len(self.history) - self.earliest > self.keep_q:
            old = self.earliest          # long runs: the trace stays, the oldest q goes
            self.history[old] = replace(self.history[old], q=None, stats=None)
            self.earliest += 1
        return state

    def _make_state(self, index: int, u: Update) -> State:
        """A State from a schedule's update; what is already known (log p when θ did not move,
        H(q) when q did not change or the schedule kept it) is not computed again."""
        now = self.current if self.history else None
        if isinstance(u.q, np.ndarray):
            u.q.setflags(write=False)        # a state's q is immutable, as its θ is
        same_q = now is not None and u.q is now.q
        if u.entropy is not None:
            entropy = u.entropy
        else:
            entropy = now.entropy if same_q else self.model.entropy(u.q)
        loglik = now.loglik if now is not None and u.theta is now.theta else None
        values = checked_values(self.model, u.theta, u.q, Q_MADE_BY.get(u.kind, "the step's q"), entropy, loglik)
        loglik, F = values.loglik, values.F
        if now is not None and np.isfinite(now.loglik) and np.isfinite(now.F) and \
                not (np.isfinite(loglik) and np.isfinite(F)):   # a step broke finite numbers (a start
            # on the edge of θ's space, where the data are impossible, keeps its −∞: it is the truth)
            raise ExplorerError(f"the {u.kind} step gave log p = {loglik}, F = {F}: stopped before it (the "
                                f"state before stays current){'; ' + u.detail if u.detail else ''}")
        stats = u.stats if u.stats is not None else now.stats if same_q else None
        warnings = tuple(self.model.warnings(u.theta)) + tuple(w for w in [kl_warning(loglik, F)] if w)
        return State(index, u.kind, u.theta, u.q, loglik, F, entropy, warnings,
                     u.detail, passes=(now.passes if now else 0.0) + u.passes,
                     partial=u.partial or (same_q and now.partial), stats=stats, stalled=u.stalled,
                     e_steps=(now.e_steps if now else 0) + (u.kind == "E"),
                     m_steps=(now.m_steps if now else 0) + (u.kind == "M"))
