"""Time per EM iteration of gmm1d (K=2) and gmm2d (K=3) against scikit-learn, same data.

One iteration here is everything a session records: the E step, F at (θ, q), the M step, and
log p and F at the new θ. scikit-learn's is (fit with max_iter=1+M − fit with max_iter=1) / M,
with tol=0, reg_covar=0 and the same initial values, so its initialisation is not counted.

    python benchmarks/em_speed.py [--sizes 10000,100000,1000000] [--iterations 10]

On a virtual machine the first touch of each page of memory can cost far more than the
arithmetic (here 16 MB of never-touched memory took 24 ms to fill, 4 ms once touched before),
and a session keeps every state's q. So the script first touches and frees `--warm-mb` of memory,
which both contenders then reuse.
"""
import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from explorer import Session, make_model


def ours_per_iteration(model, iterations):
    session = Session(model, seed=0)
    session.iterate()  # warm up
    start = time.perf_counter()
    for _ in range(iterations):
        session.iterate()
    return (time.perf_counter() - start) / iterations, session


def sklearn_per_iteration(model, theta, iterations):
    K = len(theta["weights"])
    X = model.data.reshape(len(model.data), -1)
    cov = theta["variances"].reshape(K, 1, 1) if "variances" in theta else theta["covariances"]

    def fit(max_iter):
        gm = GaussianMixture(K, covariance_type="full", reg_covar=0.0, tol=0.0, max_iter=max_iter,
                             init_params="random_from_data", weights_init=theta["weights"],
                             means_init=theta["means"].reshape(K, -1), precisions_init=np.linalg.inv(cov))
        start = time.perf_counter()
        gm.fit(X)
        return time.perf_counter() - start

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        base = min(fit(1) for _ in range(2))
        full = fit(1 + iterations)
    return max(full - base, 1e-12) / iterations


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warm-mb", type=int, default=2048)
    args = parser.parse_args()
    np.ones(args.warm_mb * 2**20 // 8)   # touch, then free: see the module docstring
    print(f"{'model':8s} {'N':>9s} {'ours ms/it':>11s} {'sklearn ms/it':>14s} {'speed-up':>9s}")
    for name, K in (("gmm1d", 2), ("gmm2d", 3)):
        for n in (int(s) for s in args.sizes.split(",")):
            model = make_model(name, synthetic={"n": n, "seed": 0, "separation": 3.0}, K=K)
            ours, session = ours_per_iteration(model, args.iterations)
            theirs = sklearn_per_iteration(model, session.history[0].theta, args.iterations)
            print(f"{name:8s} {n:9d} {ours * 1e3:11.2f} {theirs * 1e3:14.2f} {theirs / ours:8.1f}x",
                  flush=True)


if __name__ == "__main__":
    main()
