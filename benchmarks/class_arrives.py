"""The EM rows of the table of the issue "A class arrives at once", each as a ratio against its
peer measured in the same run, before (another checkout, e.g. the main branch) and after (this
checkout).

    python benchmarks/class_arrives.py [--before /tmp/before] [--repeats 5] [--rows gmm1d,gmm2d,hmm]

(`git archive main | tar -x -C /tmp/before` makes a checkout of the main branch to compare with.)

Rows, all with N = T = 10⁶ points simulated by the CLI's `--synthetic` (data seed 0):

* gmm1d, K = 2, separation 3: one EM iteration through the CLI's path, against scikit-learn's
  GaussianMixture per iteration: speed-up = scikit-learn's time / ours (goal ≥ 15);
* gmm2d, K = 3, separation 3: the same (goal ≥ 10);
* hmm, K = 2, separation 2: one Baum–Welch iteration through the CLI's path, against hmmlearn's
  compiled GaussianHMM ("scaling" and "log"): ratio = hmmlearn's best / ours (goal ≥ 1).

"Through the CLI's path": each checkout runs, in its own process, `cli.session_from_args` on the
arguments of `python -m explorer trace --model ... --synthetic 1000000 --iterations M` and the
same `session.iterate()` loop as `cmd_trace`, with the CLI's `keep_q=2`; after two warm-up
iterations (the first touch of fresh memory), each repeat starts again from θ⁰ and times
iterations 2 to M + 1, as the peers' fits are timed. Process start-up,
data simulation and JSON output are left out, so the figure is the time per iteration itself.
The peers start from the same θ⁰ (the session's first state) and are timed as
(fit with 1 + M iterations − fit with 1) / M, tol = 0, no regularisation, so their
initialisation is not counted.

Every figure is the median of --repeats repeats (the spread of the wall-clock times, min–max,
beside it), except "CPU min": the least CPU time per iteration of any repeat (ours, the peer's,
and their ratio), the figure that a shared machine's other work disturbs least; the load
average (`os.getloadavg`) is printed with each row. "peer/ours" compares wall-clock times; "CPU ratio" compares the processes' CPU
time, which on a shared, loaded machine moves far less from run to run than the wall clock
(waiting for a core is not counted) — but it is a fair comparison only when both run on one
thread: run with OPENBLAS_NUM_THREADS=1 for it (the peers call BLAS; ours keeps its BLAS
calls short enough to stay on one thread anyway).
"""
import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]
N = 1_000_000
ROWS = {  # name: (model, K, separation, goal: peer / ours at least)
    "gmm1d": ("gmm1d", 2, 3.0, 15.0),
    "gmm2d": ("gmm2d", 3, 3.0, 10.0),
    "hmm": ("hmm", 2, 2.0, 1.0),
}

TIMER = r"""
import json, sys, time
import numpy as np
from explorer.cli import build_parser, session_from_args
argv, iterations, repeats = json.loads(sys.argv[1])
args = build_parser().parse_args(argv)
session = session_from_args(args, keep_q=2)
start_theta = dict(session.current.theta)
theta0 = {k: np.asarray(v).tolist() for k, v in start_theta.items()}
session.iterate(); session.iterate()
times = []
for _ in range(repeats):
    # each repeat from θ⁰ again, as the peers' fits: iterations 2..M+1, never a pass EM has
    # already made (near a fixed point in floating point θ stops moving and the model returns
    # the pass it kept: a gmm2d repeat timed 0.4 ms an iteration)
    session.reset(start_theta)
    session.iterate()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(iterations):
        session.iterate()
    times.append(((time.perf_counter() - start) / iterations, (time.process_time() - cpu) / iterations))
print(json.dumps({"times": times, "theta0": theta0}))
"""


def trace_argv(model, K, separation):
    return ["trace", "--model", model, "--option", f"K={K}", "--synthetic", str(N), "--data-seed", "0",
            "--separation", str(separation), "--seed", "0", "--iterations", "1"]


def cli_path_times(tree: Path, argv, iterations, repeats):
    """Seconds per iteration through the CLI's path of the checkout at `tree` (a subprocess with
    that checkout first on the path), one figure per repeat; and the session's θ⁰."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, "-c", TIMER, json.dumps([argv, iterations, repeats])], env=env,
                          capture_output=True, text=True, cwd=tree)
    if done.returncode != 0:
        raise RuntimeError(f"timing {tree} failed: {done.stderr[-800:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return out["times"], {k: np.asarray(v) for k, v in out["theta0"].items()}


def data_of(model, K, separation):
    from explorer import make_model
    return make_model(model, synthetic={"n": N, "seed": 0, "separation": separation}, K=K).data


def sklearn_times(x, theta, iterations, repeats):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    K = len(theta["weights"])
    X = x.reshape(len(x), -1)
    cov = theta["variances"].reshape(K, 1, 1) if "variances" in theta else theta["covariances"]

    def fit(max_iter):
        gm = GaussianMixture(K, covariance_type="full", reg_covar=0.0, tol=0.0, max_iter=max_iter,
                             init_params="random_from_data", weights_init=theta["weights"],
                             means_init=theta["means"].reshape(K, -1), precisions_init=np.linalg.inv(cov))
        return timed(lambda: gm.fit(X))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit(1)   # warm up
        return [per_iteration(fit(1 + iterations), fit(1), iterations) for _ in range(repeats)]


def hmmlearn_times(x, theta, iterations, repeats, implementation):
    from hmmlearn.hmm import GaussianHMM
    K = len(theta["means"])

    def fit(n_iter):
        model = GaussianHMM(K, covariance_type="diag", min_covar=0.0, covars_prior=0.0, n_iter=n_iter, tol=-np.inf,
                            init_params="", params="stmc", implementation=implementation)
        model.startprob_ = np.array(theta["startprob"])
        model.transmat_ = np.array(theta["transmat"])
        model.means_ = np.array(theta["means"])[:, None]
        model.covars_ = np.array(theta["variances"])[:, None]
        return timed(lambda: model.fit(x[:, None]))

    fit(1)
    return [per_iteration(fit(1 + iterations), fit(1), iterations) for _ in range(repeats)]


def timed(work):
    """(wall seconds, CPU seconds of this process) that `work()` took."""
    start, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - start, time.process_time() - cpu


def per_iteration(long, short, iterations):
    return tuple(max(a - b, 1e-12) / iterations for a, b in zip(long, short))


def med(times, which=0):
    return float(np.median([t[which] for t in times]))


def least(times, which=1):
    return float(min(t[which] for t in times))


def spread(times):
    return f"{min(t[0] for t in times) * 1e3:.0f}–{max(t[0] for t in times) * 1e3:.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="a checkout to compare with (e.g. the main branch's code)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", default=",".join(ROWS))
    args = parser.parse_args()
    print(f"{'row':6s} {'code':7s} {'ours ms/it':>11s} {'(spread)':>10s} {'peer':>16s} {'peer ms/it':>11s} "
          f"{'(spread)':>10s} {'peer/ours':>10s} {'CPU ratio':>10s} {'CPU min ms ours/peer':>21s} "
          f"{'ratio':>6s} {'goal':>6s} {'load':>14s}")
    for row in args.rows.split(","):
        model, K, separation, goal = ROWS[row]
        argv = trace_argv(model, K, separation)
        x = data_of(model, K, separation)
        for label, tree in (("before", args.before), ("after", HERE)):
            if tree is None:
                continue
            ours, theta0 = cli_path_times(tree, argv, iterations=2 if model == "hmm" else 20, repeats=args.repeats)
            if model == "hmm":
                peers = {f"hmmlearn {impl}": hmmlearn_times(x, theta0, 2, max(3, args.repeats // 2), impl)
                         for impl in ("scaling", "log")}
                name, theirs = min(peers.items(), key=lambda item: med(item[1]))
            else:
                name, theirs = "sklearn", sklearn_times(x, theta0, 5, args.repeats)
            ratio, cpu_ratio = med(theirs) / med(ours), med(theirs, 1) / med(ours, 1)
            cpu_min = f"{least(ours) * 1e3:.1f}/{least(theirs) * 1e3:.1f}"
            load = "/".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"{row:6s} {label:7s} {med(ours) * 1e3:11.1f} {spread(ours):>10s} {name:>16s} "
                  f"{med(theirs) * 1e3:11.1f} {spread(theirs):>10s} {ratio:9.2f}x {cpu_ratio:9.2f}x {cpu_min:>21s} "
                  f"{least(theirs) / least(ours):5.2f}x {goal:5.0f}x {load:>14s}", flush=True)


if __name__ == "__main__":
    main()
