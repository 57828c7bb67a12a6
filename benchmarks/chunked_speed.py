"""Seconds per EM iteration on data past memory: the in-memory session (numpy) beside the
chunked path (`python -m explorer chunked`, a memory-mapped .npy read through dask), for
N = 10⁶, 10⁷ and 10⁸ points of gmm1d (K = 2), with each run's peak resident memory.

Each run is its own process (its peak memory is its own). Writes the data files to a scratch
folder (800 MB for 10⁸ points) and deletes them at the end.

    python benchmarks/chunked_speed.py [--sizes 1e6,1e7,1e8] [--iterations 3] [--folder /tmp]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

NUMPY_RUN = """
import json, resource, sys, time
import numpy as np
from explorer import Session
from explorer.models import MODELS
x = np.load(sys.argv[1])
model = MODELS["gmm1d"](x)
session = Session(model, seed=0, keep_q=2)
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); session.iterate(); times.append(time.perf_counter() - t)
print(json.dumps({"seconds": min(times), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def chunked(path, iterations):
    out = subprocess.run([sys.executable, "-c", CHUNKED_RUN, path, str(iterations)], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout)


CHUNKED_RUN = """
import json, resource, sys
from explorer.cli import main
import io, contextlib
buffer = io.StringIO()
with contextlib.redirect_stdout(buffer):
    main(["chunked", "--model", "gmm1d", "--data-file", sys.argv[1], "--iterations", sys.argv[2], "--json"])
steps = json.loads(buffer.getvalue())["iterations"]
print(json.dumps({"seconds": min(s["seconds"] for s in steps[1:] or steps),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def in_memory(path, iterations, n):
    if n > 2e7:          # 10⁸ points: data (0.8 GB), q and the per-point moments exceed the 2 GB budget
        return None
    out = subprocess.run([sys.executable, "-c", NUMPY_RUN, path, str(iterations)], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1e6,1e7,1e8")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--folder", default=tempfile.gettempdir())
    args = parser.parse_args()
    import numpy as np
    from explorer.models import MODELS
    folder = tempfile.mkdtemp(prefix="chunked-", dir=args.folder)
    print("| N | numpy s/it | numpy peak MB | chunked s/it | chunked peak MB |")
    print("|---|---|---|---|---|")
    try:
        for n in (int(float(v)) for v in args.sizes.split(",")):
            path = os.path.join(folder, f"gmm1d-{n}.npy")
            rows = np.lib.format.open_memmap(path, mode="w+", dtype=float, shape=(n,))
            for start in range(0, n, 10_000_000):            # written in pieces: never all in memory
                stop = min(n, start + 10_000_000)
                rows[start:stop] = MODELS["gmm1d"].synthetic(stop - start, start)
            rows.flush()
            del rows
            numpy_run = in_memory(path, args.iterations, n)
            chunked_run = chunked(path, args.iterations)
            left = "— | — (over 2 GB)" if numpy_run is None else \
                f"{numpy_run['seconds']:.3f} | {numpy_run['peak_mb']:.0f}"
            print(f"| 10^{len(str(n)) - 1} | {left} | {chunked_run['seconds']:.3f} | {chunked_run['peak_mb']:.0f} |",
                  flush=True)
            os.remove(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
