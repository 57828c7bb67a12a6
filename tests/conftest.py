"""Shared test fixtures: one small instance of every built-in model."""
import os

import numpy as np
import pytest
from hypothesis import settings

# Under CI the property tests draw the same examples every run, so a result is reproducible.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

from explorer.models import MODELS, make_model

# name -> a factory of a small instance, for the models whose default data are large or slow.
SMALL = {
    "linkage": lambda: make_model("linkage"),
    "coins": lambda: make_model("coins"),
    "gmm1d": lambda: make_model("gmm1d", synthetic={"n": 60, "seed": 3, "separation": 2.5}, K=3),
    "gmm2d": lambda: make_model("gmm2d", synthetic={"n": 60, "seed": 4, "separation": 3.0}, K=2),
    "two-source": lambda: make_model("two-source", synthetic={"n": 50, "seed": 5, "separation": 1.0}),
    "factor-analysis": lambda: make_model("factor-analysis", synthetic={"n": 80, "seed": 6, "separation": 1.0}),
    "censored": lambda: make_model("censored"),
    "student-t": lambda: make_model("student-t"),
    "hmm": lambda: make_model("hmm", synthetic={"n": 40, "seed": 8, "separation": 2.0}),
    "mvn-missing": lambda: make_model("mvn-missing", synthetic={"n": 60, "seed": 7, "separation": 1.0}),
    "bernoulli-mixture": lambda: make_model("bernoulli-mixture", synthetic={"n": 60, "seed": 9, "separation": 2.0}),
    "regression-mixture": lambda: make_model("regression-mixture", synthetic={"n": 60, "seed": 10, "separation": 3.0}),
}
# name -> a factory of a small model instance, used by the tests of every model: every registered
# model is here (a new model is tested without editing this file), on its default data unless SMALL
# says otherwise.
MODEL_FACTORIES = {name: SMALL.get(name, lambda name=name: make_model(name)) for name in MODELS}


@pytest.fixture(params=sorted(MODEL_FACTORIES))
def any_model(request):
    return MODEL_FACTORIES[request.param]()


def random_theta(model, rng):
    """A random feasible θ: a seeded start moved by a random feasible perturbation."""
    from explorer.core.model import perturb
    theta = model.start_theta(int(rng.integers(2**31)))
    return perturb(model.params(), theta, rng, scale=0.3)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
