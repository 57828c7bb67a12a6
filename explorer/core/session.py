"""The stepping engine: immutable states, a history, undo and redo.

A session holds a model, a family of q and a set of frozen parameters. Each half step makes a
new `State` (θ, q and the values log p, F, KL) and appends it to the history; undo and redo
move an index. A step taken after an undo drops the states that were ahead (as an editor does).

    E step:  q ← argmax_{q ∈ family} F(θ, q)       (the posterior, for the exact family)
    M step:  θ ← argmax_θ F(θ, q) = argmax_θ E_q[log p(X, Z | θ)], frozen parameters held
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ExplorerError
from .families import get_family
from .model import Model, theta_to_json
from .objective import evaluate


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

    @property
    def kl(self) -> float:
        return self.loglik - self.F

    def to_json(self) -> dict:
        return {"index": self.index, "kind": self.kind, "theta": theta_to_json(self.theta),
                "loglik": self.loglik, "F": self.F, "kl": self.kl, "warnings": list(self.warnings),
                "detail": self.detail}


@dataclass(frozen=True)
class RunResult:
    iterations: int
    converged: bool


@dataclass
class Session:
    model: Model
    theta0: dict | None = None
    family: str = "exact"
    frozen: frozenset | None = None
    seed: int = 0
    history: list[State] = field(init=False, default_factory=list)
    position: int = field(init=False, default=0)

    def __post_init__(self):
        self._family = get_family(self.family, self.model)
        spec = self.model.spec()
        self.frozen = frozenset(self.model.default_frozen() if self.frozen is None else self.frozen)
        unknown = sorted(self.frozen - set(spec))
        if unknown:
            raise ExplorerError(f"cannot freeze {unknown[0]!r}: model {self.model.name} has no such "
                                f"parameter (parameters: {', '.join(spec)})")
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
        self.history = [self._make_state(0, "init", theta, self.model.initial_q(theta))]
        self.position = 0
        return self.current

    def undo(self) -> State:
        self.position = max(0, self.position - 1)
        return self.current

    def redo(self) -> State:
        self.position = min(len(self.history) - 1, self.position + 1)
        return self.current

    def go_to(self, index: int) -> State:
        self.position = min(max(0, int(index)), len(self.history) - 1)
        return self.current

    @property
    def can_undo(self) -> bool:
        return self.position > 0

    @property
    def can_redo(self) -> bool:
        return self.position < len(self.history) - 1

    # ----- steps ---------------------------------------------------------------------------------
    def e_step(self) -> State:
        s = self.current
        q, detail = self._family.run(self.model, s.theta, s.q)
        return self._push("E", s.theta, q, detail)

    def m_step(self) -> State:
        s = self.current
        return self._push("M", self.model.maximize(s.q, s.theta, self.frozen), s.q)

    def iterate(self) -> State:
        self.e_step()
        return self.m_step()

    def run(self, tol: float = 1e-8, max_iterations: int = 1000) -> RunResult:
        """EM iterations until log p changes by at most `tol` in one iteration."""
        if tol <= 0 or max_iterations < 1:
            raise ExplorerError("need tol > 0 and max_iterations >= 1")
        previous = self.current.loglik
        for iteration in range(1, max_iterations + 1):
            now = self.iterate().loglik
            if abs(now - previous) <= tol:
                return RunResult(iteration, True)
            previous = now
        return RunResult(max_iterations, False)

    def _push(self, kind: str, theta, q, detail: str = "") -> State:
        state = self._make_state(self.position + 1, kind, theta, q, detail)
        del self.history[self.position + 1:]
        self.history.append(state)
        self.position += 1
        return state

    def _make_state(self, index: int, kind: str, theta, q, detail: str = "") -> State:
        known = self.current.entropy if self.history and q is self.current.q else None
        values = evaluate(self.model, theta, q, entropy=known)
        return State(index, kind, theta, q, values.loglik, values.F, values.entropy,
                     tuple(self.model.warnings(theta)), detail)
