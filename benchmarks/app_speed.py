"""Server-side cost of the app: one EM iteration with every view updated, and the landscape.

    python benchmarks/app_speed.py

Goals (issue 3): an iteration with all views at most 100 ms for gmm1d with N = 1,000 and
300 ms with N = 100,000; a 100×100 landscape at most 250 ms for N = 1,000. The app's default
landscape grid is 40×40; the figures below give both.
"""
import time

import numpy as np

from explorer.app import App
from explorer.core.families import get_family
from explorer.core.landscape import LandscapeCalculator


def per_call(action, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main():
    np.ones(512 * 2**20 // 8)   # touch memory once (see em_speed.py)
    print(f"{'what':58s} {'median ms':>10s}")
    for n in (1_000, 100_000):
        for grid in (40, 100):
            app = App("gmm1d", dataset="synthetic", n_points=n, grid_size=grid)
            app.state.em_iteration()
            ms = per_call(app.state.em_iteration, 10)
            print(f"{f'EM iteration + all views, gmm1d K=2, N={n:,}, grid {grid}':58s} {ms:10.1f}")
    for grid in (40, 120):
        app = App("gmm2d", grid_size=grid)
        app.state.e_step()
        times = {"E": [], "M": []}
        for i in range(12):
            kind = "M" if i % 2 == 0 else "E"
            times[kind].append(per_call(app.state.m_step if kind == "M" else app.state.e_step, 1))
        for kind, values in times.items():
            print(f"{f'{kind} step + all views, gmm2d K=2 Old Faithful, grid {grid}':58s} "
                  f"{float(np.median(values)):10.1f}")
    app = App("gmm1d", dataset="synthetic", n_points=1_000)
    app.state.em_iteration()
    state = app.session.current
    for grid in (40, 100):
        calculator = LandscapeCalculator(app.state.model, get_family("exact"), grid)

        def landscape():
            calculator._cached = None   # measure the computation, not the cache
            calculator.landscape(state.theta, state.q, "means[0]", 5)
        print(f"{f'{grid}x{grid} landscape alone, gmm1d K=2, N=1,000':58s} {per_call(landscape, 5):10.1f}")


if __name__ == "__main__":
    main()
