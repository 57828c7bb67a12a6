"""Time and memory per EM iteration of gmm1d (K=2) and gmm2d (K=3) against scikit-learn, same data.

Three contenders, side by side in one run:

* session: `Session.iterate()` in-process, everything a session records (the E step, F at
  (θ, q), the M step, log p and F at the new θ), with its undo history;
* cli: `python -m explorer trace --synthetic N ... --iterations M` in a subprocess, timed as
  (run with 1 + M iterations − run with 1 iteration) / M, so start-up and data simulation cancel
  (M is at least 2·10⁷ / N, so that the iterations outweigh the noise of start-up);
* sklearn: (fit with max_iter=1+M − fit with max_iter=1) / M, with tol=0, reg_covar=0 and the
  same initial θ, so its initialisation is not counted.

Memory: "session MB" is the peak of numpy's allocations during one iteration above what the
session held before it (tracemalloc, measured on an extra iteration, not timed); "cli MB" is
the peak resident size of the whole CLI process.

    python benchmarks/em_speed.py [--sizes 10000,100000,1000000,10000000] [--iterations 5]

On a virtual machine the first touch of a page of memory can cost as much as the arithmetic,
so the first iteration of each contender is not timed.
"""
import argparse
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from explorer import Session, make_model


def session_per_iteration(model, iterations):
    session = Session(model, seed=0)
    session.iterate()  # warm up
    start = time.perf_counter()
    for _ in range(iterations):
        session.iterate()
    seconds = (time.perf_counter() - start) / iterations
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    session.iterate()
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return seconds, peak / 2**20, session


def cli_run(name, K, n, iterations):
    """(seconds, peak resident MB) of one CLI trace run. /usr/bin/time reports the peak: a
    child forked from this (large) process would count this process's pages as its own."""
    command = ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "explorer", "trace", "--model", name, "--option", f"K={K}",
               "--synthetic", str(n), "--data-seed", "0", "--separation", "3", "--seed", "0",
               "--iterations", str(iterations), "--json"]
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-500:]}")
    return seconds, int(done.stderr.split()[-1]) / 1024


def cli_per_iteration(name, K, n, iterations):
    base = min(cli_run(name, K, n, 1)[0] for _ in range(2))
    full, peak = cli_run(name, K, n, 1 + iterations)
    return max(full - base, 1e-12) / iterations, peak


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
    parser.add_argument("--sizes", default="10000,100000,1000000,10000000")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--models", default="gmm1d:2,gmm2d:3")
    args = parser.parse_args()
    print(f"{'model':6s} {'N':>9s} {'session':>9s} {'cli':>9s} {'sklearn':>9s} {'session':>8s} {'cli':>8s}"
          f" {'session':>10s} {'cli':>9s}")
    print(f"{'':6s} {'':>9s} {'ms/it':>9s} {'ms/it':>9s} {'ms/it':>9s} {'speed-up':>8s} {'speed-up':>8s}"
          f" {'MB/it':>10s} {'peak MB':>9s}")
    for item in args.models.split(","):
        name, K = item.split(":")
        K = int(K)
        for n in (int(s) for s in args.sizes.split(",")):
            model = make_model(name, synthetic={"n": n, "seed": 0, "separation": 3.0}, K=K)
            ours, memory, session = session_per_iteration(model, args.iterations)
            cli, cli_peak = cli_per_iteration(name, K, n, max(args.iterations, 20_000_000 // n))
            theirs = sklearn_per_iteration(model, session.history[0].theta, args.iterations)
            del session, model
            print(f"{name:6s} {n:9d} {ours * 1e3:9.2f} {cli * 1e3:9.2f} {theirs * 1e3:9.2f} "
                  f"{theirs / ours:7.1f}x {theirs / cli:7.1f}x {memory:10.1f} {cli_peak:9.0f}", flush=True)


if __name__ == "__main__":
    main()
