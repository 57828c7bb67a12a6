"""The EM debugger: check a model against the two key results of the variational view.

    key result 1   F(θ, q) = log p(X | θ) when q = p(Z | X, θ): the E step closes the gap;
    key result 2   F(θ, q) ≤ log p(X | θ) for every q (KL ≥ 0): F is a lower bound.

EM's guarantee that log p never decreases follows from both, provided the M step really
maximises F over θ. The checks run on data simulated from the model at a random θ (the model's
own data when it cannot simulate) and report, for each failure, what is wrong in numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ExplorerError, ModelValueError, UserCodeError
from .generic import LogJointModel, numerical_m_step
from .latent_class import LatentClassModel
from .loading import user_traceback
from .model import Model, coordinates, get_coordinate, perturb, require_finite, set_coordinate
from .session import Session, checked_values, q_is_finite

KEY_1 = "key result 1: the E step makes F = log p"
KEY_2 = "key result 2: F ≤ log p for every q (KL ≥ 0)"
MONOTONE = "EM's guarantee, from key results 1 and 2: log p never decreases"
M_HALF = "the M step's half of the coordinate ascent: without it the guarantee from key results 1 and 2 is lost"
# The order of a report: a failure of an earlier key result explains the later ones (a wrong E
# step makes the bound and the monotone climb fail too), so it is read first.
ORDER = (KEY_1, KEY_2, M_HALF, MONOTONE)


BLIND_SPOT = ("What these checks cannot see: a log joint that is wrong but consistent with itself (a wrong "
              "density, a dropped term) passes them all, since E step, bound and M step are all derived "
              "from it. Compare it with a second implementation: check MODEL --against OTHER.")


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    message: str
    breaks: str
    evidence: dict | None = None     # what a failure found, for a picture (see `evidence_*` below)
    raised: str = ""                 # the model's code raised: its traceback, the user's frames only

    def to_json(self) -> dict:
        out = {"name": self.name, "passed": self.passed, "message": self.message, "breaks": self.breaks}
        if self.raised:
            out["raised"] = self.raised
        return out if self.evidence is None else {**out, "evidence": self.evidence}


# ----- evidence of a failure, as data for a picture -------------------------------------------------
def evidence_profile(model, q, best, key: str, better: float, points: int = 41) -> dict:
    """E_q log p(X, Z | θ) along coordinate `key` through the M step's θ (`best`), over a span
    that includes the better value found: the M step's value and the better one marked."""
    params = model.params()
    current = get_coordinate(best, key)
    half = 2.5 * max(abs(better - current), 1e-9)
    ts, values = [], []
    for t in np.linspace(current - half, current + half, points):
        try:
            values.append(float(model.expected_complete_loglik(set_coordinate(params, best, key, float(t)), q)))
            ts.append(float(t))
        except ExplorerError:               # outside the constraints
            continue
    value = float(model.expected_complete_loglik(best, q))
    better_value = float(model.expected_complete_loglik(set_coordinate(params, best, key, better), q))
    return {"kind": "profile", "key": key, "t": ts, "value": values, "m_step": [current, value],
            "better": [better, better_value]}


def evidence_trace(logliks: list[float], step: int) -> dict:
    """The log p trace of the run where it fell, with the iteration where it did."""
    return {"kind": "trace", "loglik": [float(v) for v in logliks], "fell_at": step}


def evidence_per_point(values: np.ndarray, label: str, top: int = 10) -> dict:
    """Per-point numbers (a gap, a contribution) and the `top` points where they are largest."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(-np.abs(np.nan_to_num(values, nan=np.inf)))[:top]
    return {"kind": "per_point", "label": label, "values": values.tolist(),
            "worst": [[int(i) + 1, float(values[i])] for i in order]}


def per_point_posterior_gap(model, theta, q) -> np.ndarray | None:
    """max_k |q_ik − p(z_i = k | x_i, θ)| per point, the posterior from the normalised log joint
    (latent-class models only)."""
    if not isinstance(model, LatentClassModel):
        return None
    joint = model.log_joint(theta)
    enumerated = np.exp(joint - joint.max(axis=0))
    enumerated /= enumerated.sum(axis=0)
    return np.max(np.abs(np.asarray(q) - enumerated), axis=0)


def per_point_bound(model, theta, q) -> np.ndarray | None:
    """F_i − log p(x_i | θ) per point, F_i = Σ_k q_ik (log p(x_i, k | θ) − log q_ik): each point's
    share of F − log p, all ≤ 0 when the bound holds (latent-class models only)."""
    if not isinstance(model, LatentClassModel):
        return None
    joint = model.log_joint(theta)
    q = np.asarray(q)
    top = joint.max(axis=0)
    log_p = top + np.log(np.exp(joint - top).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(q > 0, q * (joint - np.log(np.where(q > 0, q, 1.0))), 0.0)
    return terms.sum(axis=0) - log_p


@dataclass(frozen=True)
class Report:
    model: str
    setting: str
    checks: list[Check]
    cannot_see: str = ""        # what such checks are blind to, said with every report

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def raised(self) -> bool:
        """Did the model's own code raise in some check (the CLI's status 3)?"""
        return any(c.raised for c in self.checks)

    def text(self) -> str:
        lines = [f"Checking {self.model}: {self.setting}"]
        shown = set()
        for c in self.checks:
            lines.append(f"  {'PASS' if c.passed else 'FAIL'}  {c.name}")
            if not c.passed:
                lines.append(f"        {c.message}")
                if c.raised in shown:          # one traceback per bug, not one per check it stops
                    lines.append("        (the same traceback as above)")
                elif c.raised:
                    shown.add(c.raised)
                    lines += [f"        {line}" for line in c.raised.rstrip().splitlines()]
                lines.append(f"        this breaks {c.breaks}")
        failed = sum(not c.passed for c in self.checks)
        lines.append(f"{len(self.checks) - failed} checks passed, {failed} failed")
        if self.cannot_see:
            lines.append(self.cannot_see)
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"model": self.model, "setting": self.setting, "passed": self.passed, "raised": self.raised,
                "checks": [c.to_json() for c in self.checks], "cannot_see": self.cannot_see}


def in_order(checks: list[Check]) -> list[Check]:
    """Failures first, the earliest broken key result first (ORDER); then the passes."""
    rank = {key: i for i, key in enumerate(ORDER)}
    return sorted(checks, key=lambda c: (c.passed, rank.get(c.breaks, len(ORDER))))


def isolated(name: str, breaks: str, run) -> list[Check]:
    """`run()`'s checks; if the model's code raises or returns a value that cannot be right, one
    failed check saying so in one line (and the user's frames), so one bug makes one finding
    and the other checks still run."""
    try:
        return run()
    except ModelValueError as exc:          # a NaN, an ∞ or an invalid θ, named with its method and θ
        return [Check(name, False, str(exc), breaks)]
    except ExplorerError as exc:            # the model's data or θ refused by the explorer's rules
        return [Check(name, False, f"the model gave something the explorer refuses: {exc}", breaks)]
    except UserCodeError as exc:
        return [Check(name, False, str(exc), breaks, raised=exc.details or str(exc))]
    except Exception as exc:  # noqa: BLE001 - the model's code raised: its own frames, one finding
        frames = user_traceback(exc)
        return [Check(name, False, f"the model's code raised {type(exc).__name__}: {exc}", breaks,
                      raised=frames if "File " in frames else f"{type(exc).__name__}: {exc} (in the explorer's "
                                                                "code, called with what the model returned)")]


def rel(a: float, b: float) -> float:
    return abs(a - b) / (1 + max(abs(a), abs(b)))


def check_model(model: Model, seed: int = 0, n_points: int = 300, starts: int = 3,
                iterations: int = 50, tol: float = 1e-7) -> Report:
    rng = np.random.default_rng(seed)
    model, setting = _simulated_twin(model, rng, n_points)
    setting += f" (check seed {seed})"
    checks = []
    for check, breaks in ((_check_e_step, KEY_1), (_check_bound, KEY_2), (_check_monotone, MONOTONE),
                          (_check_m_step, M_HALF), (_check_frozen, M_HALF), (_check_closed_forms, M_HALF)):
        name = check.__doc__.format(iterations=iterations, starts=starts)
        checks.extend(isolated(name, breaks, lambda: check(model, rng, name=name, starts=starts,
                                                          iterations=iterations, tol=tol)))
    return Report(type(model).__name__, setting, in_order(checks), BLIND_SPOT)


def _simulated_twin(model, rng, n_points):
    """The model on data simulated from a random θ, when it can simulate; else on its own data."""
    try:
        theta = model.start_theta(int(rng.integers(2**31)))
        data = model.simulate(theta, n_points, rng)
        twin = model.with_data(data)
        return twin, f"{n_points} points simulated at a random θ"
    except Exception as exc:  # noqa: BLE001 - a start or a simulation that fails: the checks say why, on the own data
        reason = "no simulate()" if type(exc) is NotImplementedError else \
            f"simulation failed: {type(exc).__name__}: {exc}"
        return model, f"the model's own data ({reason})"


def _random_thetas(model, rng, count):
    return [perturb(model.params(), model.start_theta(int(rng.integers(2**31))), rng, 0.3) for _ in range(count)]


def _posterior(model, theta):
    """posterior(θ), refused when it is not finite."""
    q = model.posterior(theta)
    if not q_is_finite(q):
        raise ModelValueError("posterior(θ)", "gave a q with entries that are NaN or ±∞", theta)
    return q


def _values(model, theta, q, q_from):
    """log p, F and H(q), each finite (checked_values), and log p not −∞ at the checks' θs,
    which are random starts inside every constraint."""
    values = checked_values(model, theta, q, q_from)
    require_finite(values.loglik, "loglik(θ)", theta, meaning=" for log p(X | θ) at a θ inside its constraints")
    return values


def _ecll(model, theta, q) -> float:
    """E_q log p, refused when NaN or +∞ (−∞ is a value: θ makes some class impossible)."""
    return require_finite(model.expected_complete_loglik(theta, q), "expected_complete_loglik(θ, q)", theta,
                          minus_inf_ok=True)


def _check_e_step(model, rng, starts, tol, name, **_):
    """the posterior normalises and F = log p after the E step"""
    for theta in _random_thetas(model, rng, starts):
        q = _posterior(model, theta)
        if isinstance(model, LatentClassModel):
            q = np.asarray(q)
            total = q.sum(axis=0)
            worst = int(np.argmax(np.abs(total - 1)))
            if np.any(q < -1e-12) or abs(total[worst] - 1) > 1e-9:
                return [Check(_check_e_step.__doc__, False,
                              f"posterior(θ) does not normalise: for point {worst + 1} it sums to "
                              f"{total[worst]:.9g} (and its smallest entry is {q.min():.3g})", KEY_1,
                              evidence_per_point(total - 1, "Σ_k q_ik − 1 per point"))]
        values = _values(model, theta, q, "posterior(θ)")
        if rel(values.F, values.loglik) > tol:
            gap = per_point_posterior_gap(model, theta, q)
            return [Check(_check_e_step.__doc__, False,
                          f"after the E step F = {values.F:.8g} but log p = {values.loglik:.8g} (gap "
                          f"{values.kl:.3g}): posterior(), entropy() or expected_complete_loglik() disagree "
                          f"with loglik()", KEY_1,
                          None if gap is None else evidence_per_point(
                              gap, "max_k |q_ik − p(z_i = k | x_i, θ)| per point (p from the log joint)"))]
    return [Check(_check_e_step.__doc__, True, "", KEY_1)]


def _check_bound(model, rng, starts, tol, name, **_):
    """F ≤ log p for random q, so KL ≥ 0"""
    for theta in _random_thetas(model, rng, starts):
        for _ in range(5):
            q = model.random_q(rng)
            values = _values(model, theta, q, "random_q(rng)")
            if values.F > values.loglik + tol * (1 + abs(values.loglik)):
                shares = per_point_bound(model, theta, q)
                return [Check(_check_bound.__doc__, False,
                              f"a random q gives F = {values.F:.8g} above log p = {values.loglik:.8g} "
                              f"(KL = {values.kl:.3g} < 0)", KEY_2,
                              None if shares is None else evidence_per_point(
                                  shares, "F_i − log p(x_i | θ) per point for that q (should be ≤ 0)"))]
    return [Check(_check_bound.__doc__, True, "", KEY_2)]


def _check_monotone(model, rng, starts, iterations, tol, name, **_):
    """log p never decreases over {iterations} EM iterations ({starts} starts)"""
    for start in range(starts):
        session = Session(model, seed=int(rng.integers(2**31)))
        previous = session.current.loglik
        trace = [previous]
        for i in range(1, iterations + 1):
            now = session.iterate().loglik
            trace.append(now)
            if now < previous - tol * (1 + abs(previous)):
                return [Check(name, False, f"start {start + 1}, iteration {i}: log p fell from "
                              f"{previous:.8g} to {now:.8g}", MONOTONE, evidence_trace(trace, i))]
            previous = now
    return [Check(name, True, "", MONOTONE)]


def _check_m_step(model, rng, starts, tol, name, **_):
    """the M step maximises E_q[log p(X, Z | θ)]: no small move raises it, its gradient is 0"""
    frozen = model.default_frozen()
    for theta in _random_thetas(model, rng, starts):
        q = _posterior(model, theta)
        best = model.maximize(q, theta, frozen)
        failure = not_a_maximiser(model, q, best, frozen, tol)
        if failure:
            return [Check(name, False, failure.message, M_HALF, evidence_profile(model, q, best, failure.key,
                                                                                failure.better))]
    return [Check(name, True, "", M_HALF)]


def _check_frozen(model, rng, tol, name, **_):
    """the M step keeps each parameter frozen alone, and still maximises over the others"""
    params = [p.name for p in model.params()]
    if len(params) < 2:
        return [Check(name, True, "", M_HALF)]
    theta = _random_thetas(model, rng, 1)[0]
    q = _posterior(model, theta)
    for held in params:
        frozen = frozenset({held})
        try:
            best = model.maximize(q, theta, frozen)
        except RuntimeError as exc:              # Model.maximize: a frozen value came back changed
            return [Check(name, False, f"with only {held} frozen: {exc}", M_HALF)]
        failure = not_a_maximiser(model, q, best, frozen, tol)
        if failure:
            return [Check(name, False, f"with only {held} frozen: {failure.message}", M_HALF,
                          evidence_profile(model, q, best, failure.key, failure.better))]
    return [Check(name, True, "", M_HALF)]


@dataclass(frozen=True)
class NotAMaximiser:
    message: str
    key: str            # the coordinate along which E_q log p rises
    better: float       # a value of it where E_q log p is higher than at the M step's


def not_a_maximiser(model, q, best, frozen, tol) -> NotAMaximiser | None:
    """What shows that `best` does not maximise E_q log p over the free coordinates: a small
    feasible move that raises it, or a gradient (by central differences) that is not 0."""
    params = model.params()
    value = _ecll(model, best, q)
    if value == -np.inf:
        raise ModelValueError("m_step(q, θ, frozen)", "returned a θ where E_q log p = −∞ (q's classes impossible)",
                              best)
    for key in coordinates(params):
        if key.split("[")[0] in frozen or key in frozen:
            continue
        current = get_coordinate(best, key)
        step = 1e-3 * max(abs(current), 1e-2)
        ups = []
        for moved in (current + step, current - step):
            try:
                ups.append((moved, _ecll(model, set_coordinate(params, best, key, moved), q)))
            except ExplorerError:
                ups.append((moved, None))      # outside the constraints: not a feasible move
        for moved, other in ups:
            if other is not None and other - value > tol * (1 + abs(value)):
                return NotAMaximiser(f"M step is not a maximiser: moving {key} from {current:.6g} to {moved:.6g} "
                                     f"raises E_q log p by {other - value:.3g}", key, moved)
        if all(other is not None for _, other in ups):
            slope = (ups[0][1] - ups[1][1]) / (2 * step)
            curvature = abs(ups[0][1] + ups[1][1] - 2 * value) / step**2
            if abs(slope) > 1e-4 * (1 + abs(value)) and abs(slope) > 10 * curvature * step:
                return NotAMaximiser(f"M step is not a maximiser: the gradient of E_q log p along {key} is "
                                     f"{slope:.3g} at {current:.6g}, not 0", key,
                                     current + (step if slope > 0 else -step))
    return None


def _check_closed_forms(model, rng, starts, tol, name, **_):
    """closed-form E and M steps agree with the generic ones"""
    checks = []
    if isinstance(model, LatentClassModel) and not isinstance(model, LogJointModel):
        name = "the closed-form M step reaches the numerical maximum of E_q log p"
        failure = evidence = None
        for theta in _random_thetas(model, rng, min(starts, 2)):
            q = _posterior(model, theta)
            frozen = model.default_frozen()
            closed_theta = model.maximize(q, theta, frozen)
            closed = _ecll(model, closed_theta, q)
            # climbing from the closed form's θ: where it is the maximum the climb stops at once
            numeric_theta = model.theta(numerical_m_step(model, q, closed_theta, frozen))
            numeric = _ecll(model, numeric_theta, q)
            if numeric - closed > 1e-6 * (1 + abs(closed)):
                failure = (f"numerical maximisation reaches E_q log p = {numeric:.8g}, above the closed-form "
                           f"M step's {closed:.8g} (by {numeric - closed:.3g})")
                key = max(coordinates(model.params()), key=lambda k: abs(get_coordinate(numeric_theta, k) -
                                                                          get_coordinate(closed_theta, k)))
                evidence = evidence_profile(model, q, closed_theta, key, get_coordinate(numeric_theta, key))
                break
        checks.append(Check(name, failure is None, failure or "", M_HALF, evidence if failure else None))
        if type(model).posterior is not LatentClassModel.posterior:
            name = "the closed-form E step equals the normalised log joint"
            theta = _random_thetas(model, rng, 1)[0]
            joint = model.log_joint(theta)
            enumerated = np.exp(joint - joint.max(axis=0))
            enumerated /= enumerated.sum(axis=0)
            per_point = np.max(np.abs(np.asarray(_posterior(model, theta)) - enumerated), axis=0)
            gap = float(per_point.max())
            checks.append(Check(name, gap < 1e-8, f"posterior(θ) differs from the normalised log joint by "
                                                  f"up to {gap:.3g}", KEY_1,
                                None if gap < 1e-8 else evidence_per_point(
                                    per_point, "max_k |q_ik − p(z_i = k | x_i, θ)| per point")))
    return checks


def compare_implementations(model: Model, other: Model, seed: int = 0, starts: int = 3,
                            tol: float = 1e-6) -> Report:
    """Two implementations of one model on the same data and the same θs: log p, the posterior
    (where both give q in the same form) and the M step must agree. This sees what the checks
    above cannot: a log joint that is wrong but consistent with itself."""
    rng = np.random.default_rng(seed)
    setting = f"{type(model).__name__} against {type(other).__name__} on the same data (seed {seed})"
    name_a, name_b = type(model).__name__, type(other).__name__
    spec_a = [(p.name, tuple(p.shape)) for p in model.params()]
    spec_b = [(p.name, tuple(p.shape)) for p in other.params()]
    if spec_a != spec_b:
        return Report(name_a, setting, [Check("the two have the same parameters", False,
                                              f"{name_a} has {spec_a}, {name_b} has {spec_b}", "the comparison")])
    other = other.with_data(model.data)
    checks = []
    thetas = _random_thetas(model, rng, starts)

    def first_difference(label, a: dict, b: dict) -> str | None:
        for key in coordinates(model.params()):
            x, y = get_coordinate(a, key), get_coordinate(b, key)
            if rel(x, y) > tol:
                return f"{label}: first disagreement at {key}: {x:.10g} against {y:.10g} (by {y - x:.3g})"
        return None

    def loglik_agrees():
        for theta in thetas:
            a = require_finite(model.loglik(theta), f"{name_a}.loglik(θ)", theta, minus_inf_ok=True)
            b = require_finite(other.loglik(other.theta(theta)), f"{name_b}.loglik(θ)", theta, minus_inf_ok=True)
            if rel(a, b) > 1e-9 or (a == -np.inf) != (b == -np.inf):
                return [Check("log p(X | θ) agrees", False, f"log p(X|θ) is {a:.10g} for {name_a} and {b:.10g} "
                                                            f"for {name_b} (by {b - a:.3g})", KEY_1)]
        return [Check("log p(X | θ) agrees", True, "", KEY_1)]

    def posterior_agrees():
        failure, compared = None, False
        for theta in thetas:
            qa, qb = _posterior(model, theta), _posterior(other, other.theta(theta))
            if isinstance(qa, np.ndarray) and isinstance(qb, np.ndarray) and qa.shape == qb.shape:
                compared = True
                gap = float(np.max(np.abs(qa - qb)))
                if gap > 1e-8:
                    i = np.unravel_index(int(np.argmax(np.abs(qa - qb))), qa.shape)
                    failure = f"the posteriors differ by up to {gap:.3g}, first at entry {tuple(int(v) for v in i)}"
                    break
        return [Check("the posterior p(Z | X, θ) agrees", failure is None, failure or "", KEY_1)] if compared else []

    def m_step_agrees():
        frozen = model.default_frozen()
        for theta in thetas:
            a = model.maximize(_posterior(model, theta), theta, frozen)
            b = other.maximize(_posterior(other, other.theta(theta)), other.theta(theta), frozen)
            failure = first_difference("the M steps from the same θ differ", a, b)
            if failure:
                return [Check("the M step agrees", False, failure, M_HALF)]
        return [Check("the M step agrees", True, "", M_HALF)]

    for name, breaks, run in (("log p(X | θ) agrees", KEY_1, loglik_agrees),
                              ("the posterior p(Z | X, θ) agrees", KEY_1, posterior_agrees),
                              ("the M step agrees", M_HALF, m_step_agrees)):
        checks.extend(isolated(name, breaks, run))
    return Report(name_a, setting, in_order(checks))
