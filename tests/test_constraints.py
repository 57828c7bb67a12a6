"""Constraints as objects: each one's maps and moves stay feasible, and a new one plugs in."""
import numpy as np
import pytest

from explorer import Session
from explorer.core.constraints import CONSTRAINTS, Constraint, get_constraint
from explorer.core.errors import ExplorerError
from explorer.core.generic import LogJointModel
from explorer.core.model import Param, coordinates, perturb, set_coordinate, validate_theta

SHAPES = {"real": (3,), "positive": (3,), "unit": (2,), "simplex": (2, 4), "covariance": (2, 3, 3),
          "ordered": (4,)}


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_random_values_maps_and_moves_are_feasible(name):
    constraint, shape, rng = CONSTRAINTS[name], SHAPES[name], np.random.default_rng(0)
    param = Param("p", shape, name, "p")
    for _ in range(20):
        value = np.asarray(constraint.random(shape, rng), dtype=float)
        validate_theta([param], {"p": value})
        u = constraint.to_unconstrained(value)
        assert u.size >= constraint.free_dimension(shape)
        np.testing.assert_allclose(constraint.from_unconstrained(u, shape), value, rtol=1e-9, atol=1e-12)
        moved = constraint.perturb(value, rng, 0.3)
        validate_theta([param], {"p": moved})
        assert not np.allclose(moved, value)


def test_free_dimensions():
    assert CONSTRAINTS["simplex"].free_dimension((2, 4)) == 6
    assert CONSTRAINTS["covariance"].free_dimension((2, 3, 3)) == 12
    assert CONSTRAINTS["ordered"].free_dimension((4,)) == 4


def test_a_constraint_compares_equal_to_its_name_and_rejects_unknown_names():
    assert Param("w", (3,), "simplex", "w").constraint == "simplex"
    assert str(get_constraint("unit")) == "unit"
    with pytest.raises(ValueError, match="unknown constraint 'sorted'"):
        Param("m", (3,), "sorted", "m")


def test_ordered_values_are_checked_and_slices_stay_ordered():
    param = Param("means", (3,), "ordered", r"\mu")
    with pytest.raises(ExplorerError, match="strictly increasing"):
        validate_theta([param], {"means": [0.0, 2.0, 1.0]})
    theta = validate_theta([param], {"means": [0.0, 1.0, 3.0]})
    lo, hi = CONSTRAINTS["ordered"].slice_range(theta["means"], (1,))
    assert 0.0 < lo < hi < 3.0
    for value in np.linspace(lo, hi, 5):
        set_coordinate([param], theta, "means[1]", value)


class Correlation(Constraint):
    """A new constraint in one class: a value in (−1, 1), mapped by atanh."""
    name = "correlation"

    def check(self, name, a):
        if np.any(np.abs(a) >= 1):
            raise ExplorerError(f"parameter {name!r} must lie in (-1, 1)")

    def random(self, shape, rng):
        return rng.uniform(-0.5, 0.5, size=shape)

    def to_unconstrained(self, a):
        return np.arctanh(a)

    def from_unconstrained(self, u, shape):
        return np.tanh(u).reshape(shape)

    def slice_range(self, a, index):
        return -0.99, 0.99


def bivariate_mixture(data):
    """Two components of a bivariate normal with unit variances and a correlation each."""
    def log_joint(x, z, theta):
        rho = theta["rho"][z]
        mu = theta["means"][z]
        d0, d1 = x[:, 0] - mu, x[:, 1] - mu
        quad = (d0 * d0 - 2 * rho * d0 * d1 + d1 * d1) / (1 - rho * rho)
        return np.log(theta["weights"][z]) - np.log(2 * np.pi) - 0.5 * np.log(1 - rho * rho) - 0.5 * quad
    params = [Param("weights", (2,), "simplex", "w"), Param("means", (2,), "ordered", r"\mu"),
              Param("rho", (2,), Correlation(), r"\rho")]
    return LogJointModel(data, params=params, latent_values=[0, 1], log_joint=log_joint,
                         init=lambda rng: {"weights": [0.5, 0.5], "means": [-1.0, 1.0], "rho": [0.0, 0.0]})


def test_a_new_constraint_works_through_the_m_step_the_gradient_schedule_and_the_landscape():
    rng = np.random.default_rng(3)
    cov = lambda r: [[1, r], [r, 1]]
    data = np.vstack([rng.multivariate_normal([-2, -2], cov(0.6), 300),
                      rng.multivariate_normal([2, 2], cov(-0.4), 300)])
    model = bivariate_mixture(data)
    assert "rho[1]" in coordinates(model.params())
    session = Session(model, seed=0)
    session.run(tol=1e-8, max_iterations=200)
    rho = session.current.theta["rho"]
    assert rho[0] == pytest.approx(0.6, abs=0.1) and rho[1] == pytest.approx(-0.4, abs=0.1)
    gradient = Session(model, seed=0, schedule="gradient:0.5")
    for _ in range(5):
        state = gradient.iterate()
    assert state.F > gradient.history[1].F and np.all(np.abs(state.theta["rho"]) < 1)
    moved = perturb(model.params(), session.current.theta, rng, 0.2)
    assert np.all(np.diff(moved["means"]) > 0)
