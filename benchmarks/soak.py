"""The long soak: every built-in model (each option at its default and one above) × every family ×
every schedule in each spelling it declares, from many seeds, for many half steps; prints the
counts (runs, half steps, stops by message, problems) per combination and in total.

    python benchmarks/soak.py [--seeds 20] [--half-steps 1000] [--models hmm,gmm1d]

The checks are explorer.core.soak's (the test suite's tests/test_soak.py runs a short version).
Exits non-zero if any run found a problem or raised anything but an ExplorerError.
"""
import argparse
import collections
import sys
import time
import traceback

from explorer.core.soak import combinations, soak
from explorer.models import MODELS, make_model


def option_settings(cls) -> list[dict]:
    """Each option at its default, then each one step above its default (where allowed)."""
    out = [{}]
    for option in cls.option_specs:
        if option.default + 1 <= option.maximum:
            out.append({option.name: option.default + 1})
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--half-steps", type=int, default=1000)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    built = {}
    for name in args.models.split(","):
        for options in option_settings(MODELS[name]):
            label = name + "".join(f" {k}={v}" for k, v in options.items())
            built[label] = make_model(name, **options)
    totals = collections.Counter()
    failed = False
    print(f"{'model / family / schedule':52s} {'runs':>5s} {'half steps':>11s} {'stops':>6s} {'problems':>9s} {'s':>7s}")
    for label, family, schedule in combinations(built, variants=True):
        begin = time.perf_counter()
        counts, stops, problems = collections.Counter(), collections.Counter(), []
        for seed in range(args.seeds):
            try:
                result = soak(built[label], family, schedule, seed, args.half_steps)
            except Exception as exc:  # noqa: BLE001 - a bare exception is what the soak looks for
                problems.append(f"seed {seed}: {type(exc).__name__}: {exc}")
                traceback.print_exc(limit=-3)
                continue
            counts["runs"] += 1
            counts["half steps"] += result.half_steps
            if result.stopped:
                stops[result.stopped[:100]] += 1
            problems += [f"seed {seed}: {p}" for p in result.problems]
        totals.update(counts)
        totals["stops"] += sum(stops.values())
        totals["problems"] += len(problems)
        failed |= bool(problems)
        print(f"{label + ' / ' + family + ' / ' + schedule:52s} {counts['runs']:5d} {counts['half steps']:11d} "
              f"{sum(stops.values()):6d} {len(problems):9d} {time.perf_counter() - begin:7.1f}", flush=True)
        for message, n in stops.items():
            print(f"    stopped {n}×: {message}")
        for problem in problems[:5]:
            print(f"    PROBLEM {problem}")
    print(f"total: {totals['runs']} runs, {totals['half steps']} half steps, {totals['stops']} stopped with a "
          f"message, {totals['problems']} problems")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
