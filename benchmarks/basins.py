"""Seconds for a basins map: EM from every start of a G×G grid over the two means of gmm1d on
Old Faithful's waiting times (weights and variances held at the MLE's), all starts at once.

    python benchmarks/basins.py [--grid 40]
"""
import argparse
import time

import numpy as np

from explorer import Session, make_model
from explorer.core.basins import basins


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--grid", type=int, default=40)
    args = parser.parse_args()
    model = make_model("gmm1d", data="faithful-waiting", K=2)
    session = Session(model, seed=0)
    session.run(tol=1e-10)
    theta = {k: np.asarray(v).tolist() for k, v in session.current.theta.items()}
    start = time.perf_counter()
    result = basins(model, theta, ("means[0]", "means[1]"), grid=args.grid)
    seconds = time.perf_counter() - start
    print(f"{args.grid}×{args.grid} starts: {seconds:.2f} s, {len(result.fixed_points)} fixed points "
          f"(starts reaching each: {result.counts})")


if __name__ == "__main__":
    main()
