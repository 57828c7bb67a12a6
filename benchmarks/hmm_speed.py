"""Seconds per Baum–Welch iteration of the hmm model against hmmlearn's GaussianHMM, same data
and start, K = 2.

    python benchmarks/hmm_speed.py [--sizes 10000,100000,1000000] [--iterations 3]

Ours is `Session.iterate()` (forward-backward by a prefix scan, log p, F, the M step) with the
undo history kept; hmmlearn's is (fit with n_iter = 1 + M − fit with n_iter = 1) / M, both
"log" and "scaling" implementations (hmmlearn's forward-backward is compiled C++). Times are
CPU seconds of this process (`time.process_time`), the least of --repeats repeats: on a shared
machine the wall clock counts the time spent waiting for a core. Run with
OPENBLAS_NUM_THREADS=1 so that both sides compute on one thread.
"""
import argparse
import os
import time

import numpy as np

from explorer import Session, make_model


def ours(model, start, iterations, repeats):
    session = Session(model, start)
    session.iterate()
    times = []
    for _ in range(repeats):
        begin = time.process_time()
        for _ in range(iterations):
            session.iterate()
        times.append((time.process_time() - begin) / iterations)
    return min(times)


def hmmlearn_time(x, start, iterations, implementation, repeats):
    from hmmlearn.hmm import GaussianHMM

    def fit(n_iter):
        model = GaussianHMM(2, covariance_type="diag", min_covar=0.0, covars_prior=0.0, n_iter=n_iter, tol=-np.inf,
                            init_params="", params="stmc", implementation=implementation)
        model.startprob_ = np.array(start["startprob"])
        model.transmat_ = np.array(start["transmat"])
        model.means_ = np.array(start["means"])[:, None]
        model.covars_ = np.array(start["variances"])[:, None]
        begin = time.process_time()
        model.fit(x[:, None])
        return time.process_time() - begin

    return min(max(fit(1 + iterations) - fit(1), 1e-12) / iterations for _ in range(repeats))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    start = {"startprob": [0.5, 0.5], "transmat": [[0.8, 0.2], [0.2, 0.8]], "means": [-0.5, 2.5],
             "variances": [1.5, 1.5]}
    print(f"{'T':>9s} {'ours CPU s/it':>13s} {'hmmlearn log':>13s} {'hmmlearn scaling':>17s} {'ours/hmmlearn':>14s}")
    for n in (int(s) for s in args.sizes.split(",")):
        model = make_model("hmm", synthetic={"n": n, "seed": 0, "separation": 2.0}, K=2)
        mine = ours(model, start, args.iterations, args.repeats)
        log = hmmlearn_time(model.data, start, args.iterations, "log", args.repeats)
        scaling = hmmlearn_time(model.data, start, args.iterations, "scaling", args.repeats)
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{n:9d} {mine:13.3f} {log:13.3f} {scaling:17.3f} {mine / min(log, scaling):13.2f}x   load {load}",
              flush=True)


if __name__ == "__main__":
    main()
