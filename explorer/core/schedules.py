"""Schedules: which half step comes next, and what it does. Every one keeps F from decreasing.

    em               E step, M step.
    ecm              E step, then conditional maximisation over one parameter block per half step
                     (each block with the others held), cycling through the free blocks
                     (Meng & Rubin 1993).
    gradient:STEP    E step, then one gradient-ascent step on F(θ, q)/N in an unconstrained
                     parametrisation (see reparam.py), halving the step until F does not decrease
                     (a generalized EM: any θ move that raises F keeps the guarantees).
    incremental:B    Neal & Hinton (1998): the E step recomputes q for the next block of B points
                     (cyclic, or `incremental:B:random` for a fresh random order each pass) and
                     keeps the rest; the model's sufficient statistics are updated by subtracting
                     the block's old contribution and adding its new one, so the E step touches
                     O(B) points and the M step works from the statistics in O(K). With B = N it
                     is plain EM.

A schedule holds no position of its own: the next block (of ECM or incremental EM) is read off
the session's history, so undo and redo need nothing more.

Work is counted in passes through the data: a full E step is 1 pass, an incremental one B/N;
an M-type step is free for a model with sufficient statistics (it works from them) and costs a
pass for each evaluation of E_q log p otherwise. (The log p that the trace records for display
is not counted: it is monitoring, not part of the algorithm.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ExplorerError
from .latent_class import LatentClassModel
from .model import add_stats
from .reparam import INFEASIBLE, flatten, unflatten


@dataclass
class Update:
    """What a half step produced, for the session to turn into a State."""
    kind: str
    theta: object
    q: object
    detail: str = ""
    passes: float = 0.0
    partial: bool = False          # q is not the family's full E step at any θ
    stats: object = None           # running sufficient statistics of q, when kept
    entropy: float | None = None   # H(q), when known without a pass over q
    stalled: bool = False          # the step's gain in F is below rounding


class Schedule:
    """A schedule declares what it is, so that no caller asks for its name: `title`, `formula`
    (LaTeX) and `words` for the reader; `em_map` (an iteration is the EM map θ ↦ M(θ), a full
    E step then a full M step, whose rate at a fixed point is the fraction of missing
    information); `needs_block_e_step` (its E step updates q for a block of points only);
    `settings` (the app's knobs that spell it, read by `spell`)."""
    name = "em"
    title = "EM"
    formula = r"q \leftarrow \arg\max_q F(\theta, q),\quad \theta \leftarrow \arg\max_\theta F(\theta, q)"
    words = "an E step, then an M step over every free parameter at once"
    em_map = True
    needs_block_e_step = False
    settings: tuple[str, ...] = ()

    @classmethod
    def spell(cls, settings: dict) -> str:
        """The schedule's text (as `parse_schedule` reads it) from the values of its `settings`."""
        return cls.name
    # spellings that exercise the schedule's settings (its default first), for soaks and checks
    variants: tuple[str, ...] = ("em",)

    def describe(self) -> str:
        return self.name

    def supports(self, model) -> bool:
        return True

    def supports_frozen(self, frozen) -> bool:
        return True

    def e_step(self, session) -> Update:
        s = session.current
        q, detail = session.family_object.run(session.model, s.theta, s.q)
        return Update("E", s.theta, q, detail, passes=1.0, partial=session.family_object.partial)

    def m_step(self, session) -> Update:
        s = session.current
        theta = session.model.maximize(s.q, s.theta, session.frozen)
        return Update("M", theta, s.q, passes=m_cost(session.model, 1))

    def next_is_e(self, session) -> bool:
        return session.current.kind != "E"

    def m_steps_per_iteration(self, session) -> int:
        return 1

    def iterations_per_pass(self, session) -> int:
        return 1


class ECM(Schedule):
    name = "ecm"
    title = "ECM (one block per half step)"
    formula = r"\theta_b \leftarrow \arg\max_{\theta_b} F(\theta, q)\ \text{with the other blocks held}"
    words = "an E step, then one conditional maximisation per parameter block, each with the others held"
    em_map = False
    variants = ("ecm",)

    def blocks(self, session) -> list[str]:
        blocks = [p.name for p in session.model.params() if p.name not in session.frozen]
        if not blocks:
            raise ExplorerError("every parameter is frozen: there is nothing to maximise")
        return blocks

    def cm_done(self, session) -> int:
        """How many CM steps have been taken since the last E step."""
        count = 0
        for state in reversed(session.states):
            if state.kind != "M":
                break
            count += 1
        return count

    def m_step(self, session) -> Update:
        """The next block of the cycle: the cycle goes on across E steps (M steps so far pick
        it), so pressing M after each E step still reaches every block in turn."""
        s = session.current
        blocks = self.blocks(session)
        block = blocks[s.m_steps % len(blocks)]
        held = frozenset(session.frozen) | (set(blocks) - {block})
        theta = session.model.maximize(s.q, s.theta, held)
        return Update("M", theta, s.q, detail=f"CM step: {block}", passes=m_cost(session.model, 1))

    def next_is_e(self, session) -> bool:
        return session.current.kind == "init" or self.cm_done(session) >= len(self.blocks(session))

    def m_steps_per_iteration(self, session) -> int:
        return len(self.blocks(session))


class Gradient(Schedule):
    name = "gradient"
    title = "gradient M step"
    formula = r"u \leftarrow u + \eta\, \nabla_u F(\theta(u), q) / N,\ \eta\ \text{halved until F does not fall}"
    words = "an E step, then one gradient-ascent step on F in an unconstrained parametrisation"
    em_map = False
    settings = ("step_size",)
    variants = ("gradient:0.1", "gradient:1", "gradient:10")
    max_halvings = 40
    difference = 1e-6

    def __init__(self, step: float = 0.1):
        if not (step > 0 and math.isfinite(step)):
            raise ExplorerError(f"the gradient step size must be a positive finite number, got {step}")
        self.step = float(step)

    def describe(self) -> str:
        return f"gradient:{self.step:g}"

    @classmethod
    def spell(cls, settings: dict) -> str:
        return f"gradient:{settings['step_size']:g}"

    def supports_frozen(self, frozen) -> bool:
        return not any("[" in item for item in frozen)   # the parametrisation moves whole blocks

    def m_step(self, session) -> Update:
        """θ ← θ(u + η ∇u), η halved until the step is feasible and does not lower F.

        Feasible: θ passes its constraints (a covariance stays numerically positive definite),
        the model computes E_q log p and log p there, and F(θ, q) ≤ log p(θ) holds to rounding
        (it holds for every q; where it fails the arithmetic has broken down, e.g. far out
        where a matrix is nearly singular)."""
        s, model = session.current, session.model
        params = model.params()
        free = [p.name for p in params if p.name not in session.frozen]
        n = max(1, getattr(model, "n_points", lambda: 1)())
        u0 = flatten(params, s.theta, free)

        def objective(u):
            try:
                value = model.expected_complete_loglik(unflatten(params, s.theta, free, u), s.q) / n
            except INFEASIBLE:      # left the feasible set (overflow, lost definiteness): no ascent there
                return -np.inf
            return value if np.isfinite(value) else -np.inf

        def feasible(theta, f):
            try:
                loglik = model.loglik(theta)
            except INFEASIBLE:
                return False
            F = f * n + s.entropy
            return bool(np.isfinite(loglik)) and F <= loglik + 1e-9 * max(1.0, abs(loglik))

        f0 = objective(u0)
        gradient = np.empty_like(u0)
        for j in range(len(u0)):
            e = np.zeros_like(u0)
            e[j] = self.difference * max(1.0, abs(u0[j]))
            gradient[j] = (objective(u0 + e) - objective(u0 - e)) / (2 * e[j])
        evaluations = 1 + 2 * len(u0)
        if not np.all(np.isfinite(gradient)):
            return Update("M", s.theta, s.q, "stalled: no feasible gradient (a difference step left θ's space); "
                          "θ kept (stopped, not converged)", passes=m_cost(model, evaluations), stalled=True)
        eta = self.step
        rounding = 8 * np.finfo(float).eps * max(1.0, abs(f0))
        infeasible = 0
        for halvings in range(self.max_halvings + 1):
            evaluations += 1
            u1 = u0 + eta * gradient
            f1 = objective(u1)
            if f1 >= f0:
                theta = unflatten(params, s.theta, free, u1)
                if not feasible(theta, f1):
                    infeasible += 1
                    eta /= 2
                    continue
                collapsed = model.collapsed(theta)      # off the floor the model's own M step keeps to:
                if collapsed:                           # refused, the session left as it was
                    raise ExplorerError(collapsed)
                if halvings and f1 - f0 <= rounding:     # F no longer changes in floating point
                    return Update("M", theta, s.q,
                                  f"stalled: the gain in F ({(f1 - f0) * n:.1e}) is below rounding after "
                                  f"{halvings} halvings of η, so F cannot tell a better θ from this one "
                                  f"(stopped, not converged)",
                                  passes=m_cost(model, evaluations), stalled=True)
                detail = f"gradient step η = {eta:.3g}" + (f" ({halvings} halvings)" if halvings else "")
                return Update("M", theta, s.q, detail, passes=m_cost(model, evaluations))
            if f1 == -np.inf:
                infeasible += 1
            eta /= 2
        return Update("M", s.theta, s.q,
                      f"stalled: no feasible step increases F (η halved {self.max_halvings} times from "
                      f"{self.step:g}; {infeasible} of the trial θ left θ's space, the others lowered F); "
                      f"θ kept (stopped, not converged)",
                      passes=m_cost(model, evaluations), stalled=True)


class Incremental(Schedule):
    name = "incremental"
    title = "incremental EM (Neal & Hinton)"
    formula = r"q_B \leftarrow p(Z_B \mid X_B, \theta)\ \text{for the next block } B,\ \text{then}\ \theta \leftarrow \arg\max_\theta F(\theta, q)"
    words = "the E step of the next block of points only, then an M step from the running statistics"
    em_map = False
    needs_block_e_step = True
    settings = ("block_size", "block_order")
    variants = ("incremental:10", "incremental:1:random", "incremental:50")

    def __init__(self, block: int = 10, order: str = "cyclic"):
        if block < 1:
            raise ExplorerError(f"the incremental block size must be at least 1, got {block}")
        if order not in ("cyclic", "random"):
            raise ExplorerError(f"the incremental order must be cyclic or random, got {order!r}")
        self.block, self.order = int(block), order

    def describe(self) -> str:
        return f"incremental:{self.block}" + (":random" if self.order == "random" else "")

    @classmethod
    def spell(cls, settings: dict) -> str:
        return f"incremental:{settings['block_size']}" + (":random" if settings["block_order"] == "random" else "")

    def supports(self, model) -> bool:
        return isinstance(model, LatentClassModel) and model.has_stats

    def rows(self, session) -> tuple[np.ndarray, int, int]:
        """The points of the next block: the number of E steps so far picks it."""
        n = session.model.n_points()
        size = min(self.block, n)
        per_pass = math.ceil(n / size)
        sweep, k = divmod(session.current.e_steps, per_pass)
        order = np.arange(n)
        if self.order == "random":
            order = np.random.default_rng([session.seed, sweep]).permutation(n)
        return order[k * size: min((k + 1) * size, n)], k, per_pass

    def e_step(self, session) -> Update:
        s, model = session.current, session.model
        rows, k, per_pass = self.rows(session)
        family = session.family_object
        block_q = family.block(model, s.theta, rows)
        old_block = np.asarray(s.q)[:, rows]
        old_stats = s.stats if s.stats is not None else model.stats(s.q)
        stats = add_stats(add_stats(old_stats, model.suff_stats(old_block, rows), -1.0),
                          model.suff_stats(block_q, rows), 1.0)
        # plus a block's new q, minus its old: an emptied component's N_k can be left at −1e-16
        stats = {**stats, **{name: np.maximum(stats[name], 0.0) for name in model.count_stats}}
        entropy = s.entropy - model.entropy(old_block) + model.entropy(block_q)
        q = np.array(s.q, dtype=float)
        q[:, rows] = block_q
        q.setflags(write=False)
        model.remember_stats(q, stats)
        n = model.n_points()
        detail = f"block {k + 1} of {per_pass}: {len(rows)} of {n} points"
        return Update("E", s.theta, q, detail, passes=len(rows) / n, partial=len(rows) < n,
                      stats=stats, entropy=entropy)

    def iterations_per_pass(self, session) -> int:
        return math.ceil(session.model.n_points() / min(self.block, session.model.n_points()))


def m_cost(model, evaluations: int) -> float:
    """Passes an M-type step costs: none from sufficient statistics, else one per evaluation."""
    return 0.0 if model.has_stats else float(evaluations)


SCHEDULES: dict[str, type[Schedule]] = {cls.name: cls for cls in (Schedule, ECM, Gradient, Incremental)}
SCHEDULE_NAMES = tuple(SCHEDULES)


def why_not(name: str, model, family) -> str | None:
    """Why schedule `name` cannot run on this model with this family (None: it can)."""
    schedule = parse_schedule(name)
    if not schedule.supports(model):
        return (f"{name} needs a latent-class model with sufficient statistics (a mixture); "
                f"{model.name} is not one")
    if not family.supports_schedule(schedule):
        return f"{name} needs the E step of a block of points, which the {family.name} family lacks"
    return None


def schedules_for(model, family) -> list[str]:
    """The schedules that run on this model with this family (as `families_for` for families)."""
    return [name for name in SCHEDULE_NAMES if why_not(name, model, family) is None]


def parse_schedule(text: str) -> Schedule:
    """em | ecm | gradient:STEP | incremental:B[:random]"""
    parts = str(text).strip().split(":")
    name, args = parts[0], parts[1:]
    try:
        if name == "em" and not args:
            return Schedule()
        if name == "ecm" and not args:
            return ECM()
        if name == "gradient" and len(args) <= 1:
            return Gradient(float(args[0]) if args else 0.1)
        if name == "incremental" and len(args) <= 2:
            return Incremental(int(args[0]) if args else 10, args[1] if len(args) > 1 else "cyclic")
    except ExplorerError:
        raise
    except ValueError:
        raise ExplorerError(f"cannot read the schedule {text!r}: gradient takes a number "
                            f"(gradient:0.1), incremental a whole number (incremental:20)") from None
    raise ExplorerError(f"unknown schedule {text!r} (schedules: em, ecm, gradient:STEP, "
                        f"incremental:B[:random])")
