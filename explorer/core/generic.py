"""A model from a log-joint alone: explore a model before deriving its E and M steps.

The user gives the parameter spec, the finite set of values z can take, and

    log_joint_point(x, z, θ) = log p(x_i, z_i = z | θ)   for every data point i at once

(x is the data array, or a block of its rows; the result has one value per row). Then

    E step   q(z_i = z) ∝ exp log p(x_i, z | θ), by enumeration over the finite set;
    M step   θ ← argmax_θ Σ_i Σ_z q(z_i = z) log p(x_i, z | θ), numerically (scipy's L-BFGS-B)
             in the unconstrained parametrisation of reparam.py, so every constraint of the spec
             (positive, unit, simplex, covariance) holds at every iterate.

`numerical_m_step` is the same maximisation for any model; the checks use it to test a
closed-form M step against it.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from .errors import ExplorerError
from .latent_class import LatentClassModel
from .model import Param, required
from .reparam import INFEASIBLE, flatten, unflatten


def numerical_m_step(model, q, theta, frozen=frozenset(), gtol: float = 1e-12) -> dict:
    """argmax over the free parameters of E_q[log p(X, Z | θ)], started from θ.

    The objective is E_q log p / N (the scale of one point), its gradient taken by central
    differences, and L-BFGS-B stops when the projected gradient is below `gtol` on that scale:
    a stop on the gain in F (ftol) ends where F stops changing in its last digits, which can be
    1e-5 away in θ."""
    params = model.params()
    free = [p.name for p in params if p.name not in frozen]
    if not free:
        return dict(theta)
    scale = max(1, getattr(model, "n_points", lambda: 1)())

    def negative(u):
        try:
            value = model.expected_complete_loglik(unflatten(params, theta, free, u), q)
        except INFEASIBLE:
            return np.inf
        return -value / scale if np.isfinite(value) else np.inf

    start = flatten(params, theta, free)
    found = minimize(negative, start, method="L-BFGS-B", jac="3-point",
                     options={"ftol": 0.0, "gtol": gtol, "maxiter": 2000})
    best = found.x if found.fun <= negative(start) else start
    best = newton_polish(negative, best, gtol)
    return dict(unflatten(params, theta, free, best))


def gradient(f, u: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central differences, each coordinate stepped by h·max(1, |u_j|)."""
    g = np.empty_like(u)
    for j in range(len(u)):
        e = np.zeros_like(u)
        e[j] = h * max(1.0, abs(u[j]))
        g[j] = (f(u + e) - f(u - e)) / (2 * e[j])
    return g


def newton_polish(f, u: np.ndarray, gtol: float, steps: int = 3) -> np.ndarray:
    """Newton steps on the gradient, u ← u − H⁺ g, kept while |g| falls. Near the maximum F
    changes by |g|²/H, below rounding, so a line search on F stops early (L-BFGS-B ends
    about 1e-7 away); the gradient still points the way, and Newton's step follows it."""
    g = gradient(f, u)
    for _ in range(steps):
        if not np.all(np.isfinite(g)) or np.max(np.abs(g)) <= gtol:
            break
        h = 1e-4
        hessian = np.empty((len(u), len(u)))
        for j in range(len(u)):
            e = np.zeros_like(u)
            e[j] = h * max(1.0, abs(u[j]))
            hessian[:, j] = (gradient(f, u + e) - gradient(f, u - e)) / (2 * e[j])
        hessian = (hessian + hessian.T) / 2
        trial = u - np.linalg.pinv(hessian, rcond=1e-8) @ g
        g_trial = gradient(f, trial)
        if not (np.isfinite(f(trial)) and np.linalg.norm(g_trial) < np.linalg.norm(g)):
            break
        u, g = trial, g_trial
    return u


class LogJointModel(LatentClassModel):
    """Subclass it, or build one directly:

        LogJointModel(data, params=[Param("rate", (), "positive", r"\\lambda")],
                      latent_values=[0, 1], log_joint=lambda x, z, theta: ...)
    """

    name = "log-joint"
    title = "A model given by its log-joint"
    OPTIONAL = {"init_theta(rng)": "a random start (default: a random value inside each constraint)",
                "simulate(θ, n, rng)": LatentClassModel.OPTIONAL["simulate(θ, n, rng)"]}
    latent_values: list = []
    param_specs: list[Param] = []

    def __init__(self, data, params=None, latent_values=None, log_joint=None, init=None, **options):
        if params is not None:
            self.param_specs = list(params)
        if latent_values is not None:
            self.latent_values = list(latent_values)
        if log_joint is not None:
            self.log_joint_point = log_joint
        if init is not None:
            self.init_theta = init
        if not self.latent_values:
            raise ExplorerError("a log-joint model needs latent_values: the finite set of values of z")
        super().__init__(data, **options)

    def params(self):
        return list(self.param_specs)

    def validate_data(self, data):
        x = np.asarray(data, dtype=float)
        if x.ndim == 0 or len(x) < 2:
            raise ExplorerError("the data needs at least 2 points")
        if not np.all(np.isfinite(x)):
            raise ExplorerError("the data has a value that is not a finite number")
        return x

    @required
    def log_joint_point(self, x, z, theta) -> np.ndarray:
        """log p(x_i, z_i = z | θ) for every row of x (given here or as log_joint=...)"""
        raise NotImplementedError("write log_joint_point(x, z, theta): log p(x_i, z_i = z | θ) for each row")

    def n_classes(self):
        return len(self.latent_values)

    def log_joint(self, theta, rows=slice(None)):
        x = self.data[rows]
        return np.array([np.broadcast_to(np.asarray(self.log_joint_point(x, z, theta), dtype=float), (len(x),))
                         for z in self.latent_values])

    def m_step(self, q, theta, frozen=frozenset()):
        return numerical_m_step(self, q, theta, frozen)

    def init_theta(self, rng):
        return default_theta(self.params(), rng)


def default_theta(params: list[Param], rng) -> dict:
    """A random θ inside every constraint (used when a model gives no init_theta)."""
    return {p.name: p.constraint.random(tuple(p.shape), rng) for p in params}
