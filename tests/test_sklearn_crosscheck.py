"""Cross-check against an independent implementation: scikit-learn's GaussianMixture.

Same data, same initial values, reg_covar=0, stepped one EM iteration at a time with
warm_start=True and max_iter=1: the log-likelihood after each of 20 iterations agrees to 1e-8.
"""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from explorer import Session, make_model

CASES = [
    ("gmm1d", {"n": 400, "seed": 1, "separation": 2.5}, 2),
    ("gmm1d", {"n": 500, "seed": 2, "separation": 2.0}, 3),
    ("gmm2d", {"n": 400, "seed": 3, "separation": 2.5}, 2),
    ("gmm2d", {"n": 600, "seed": 4, "separation": 2.0}, 3),
]


@pytest.mark.parametrize("name, synthetic, K", CASES)
def test_log_likelihood_matches_sklearn_for_20_iterations(name, synthetic, K):
    model = make_model(name, synthetic=synthetic, K=K)
    session = Session(model, seed=7)
    theta = session.current.theta
    X = model.data.reshape(len(model.data), -1)
    covariances = theta["variances"].reshape(K, 1, 1) if name == "gmm1d" else theta["covariances"]
    reference = GaussianMixture(
        n_components=K, covariance_type="full", reg_covar=0.0, max_iter=1, warm_start=True, tol=0.0,
        weights_init=theta["weights"], means_init=theta["means"].reshape(K, -1),
        precisions_init=np.linalg.inv(covariances))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(20):
            reference.fit(X)
            ours = session.iterate().loglik
            theirs = reference.score(X) * len(X)
            assert ours == pytest.approx(theirs, rel=1e-8)
    np.testing.assert_allclose(session.current.theta["weights"], reference.weights_, rtol=1e-6)
