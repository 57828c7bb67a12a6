"""Data passes each schedule needs to come within 1e-6 of the converged log p (issue 5).

The problem: a 1-D mixture of K = 3 unit-variance Gaussians with means 0, 3 and 6 (they
overlap, so EM is slow), N = 2,000 points (seed 0), all parameters free, started from the
same seeded θ. Reproduces in kind Neal & Hinton's (1998) finding that incremental EM needs fewer
passes through the data than standard EM.

    python benchmarks/schedules.py
"""
import time

from explorer import make_model
from explorer.core.compare import compare_schedules

SCHEDULES = ["em", "ecm", "incremental:500", "incremental:200", "incremental:100",
             "incremental:100:random", "gradient:1"]


def main():
    model = make_model("gmm1d", synthetic={"n": 2000, "seed": 0, "separation": 3.0}, K=3)
    start = time.perf_counter()
    runs = compare_schedules(model, SCHEDULES, seed=1, tol=1e-11, reach=1e-6, max_passes=3000)
    best = max(run.session.current.loglik for run in runs)
    print(f"gmm1d K=3, N=2000, separation 3; best log p = {best:.6f} "
          f"({time.perf_counter() - start:.1f} s)")
    print(f"{'schedule':24s} {'passes to 1e-6':>15s} {'iterations':>11s} {'final log p':>16s}")
    for run in runs:
        j = run.to_json()
        passes = "not reached" if j["passes_to_tol"] is None else f"{j['passes_to_tol']:.1f}"
        iterations = "" if j["iterations_to_tol"] is None else str(j["iterations_to_tol"])
        print(f"{j['schedule']:24s} {passes:>15s} {iterations:>11s} {j['final_loglik']:16.6f}")


if __name__ == "__main__":
    main()
