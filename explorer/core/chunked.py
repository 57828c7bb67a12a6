"""EM on data past memory: every iteration reads the data chunk by chunk, and only the chunks'
sufficient statistics meet.

For a mixture, one pass over chunk c at θ gives log p(X_c | θ) and the statistics S_c of the
posterior p(Z_c | X_c, θ), from the model's own `log_joint` and `suff_stats` (`for_chunk`). Then

    log p(X | θ) = Σ_c log p(X_c | θ),    S = Σ_c S_c,    θ' = the model's M step from S,

which is the E step and M step of EM exactly, with q (N × K numbers) never held. The chunks are
a dask array (a .npy file, Zarr, Parquet, or any dask source), computed by dask's scheduler: threads
by default, or any other (`scheduler="processes"`, or a dask.distributed `Client`, whose chunks
then run on its cluster). The model's constants (a mixture's centre and variance floor) and a
seeded θ⁰ come from an evenly spread sample of the rows.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .errors import ExplorerError
from .model import add_stats

SAMPLE_ROWS = 20_000          # rows, spread over the data, that fit the model's constants and θ⁰
CHUNK_ROWS = 1_000_000        # rows per chunk when the data are not a dask array already


@dataclass(frozen=True)
class ChunkedStep:
    """One EM iteration on chunked data: log p(X | θ) at the θ it started from, and the θ its
    M step gave."""
    iteration: int
    loglik: float
    theta: dict
    seconds: float


def as_dask(data, chunk_rows: int = CHUNK_ROWS):
    """`data` as a dask array chunked by rows only (an array, a memory map, or a dask array)."""
    import dask.array as da
    array = data if isinstance(data, da.Array) else da.from_array(data, chunks=(chunk_rows,) + np.shape(data)[1:])
    if array.ndim == 2:
        array = array.rechunk({1: -1})
    if array.ndim not in (1, 2) or array.shape[0] < 2:
        raise ExplorerError(f"chunked data must be rows of numbers (1 or 2 dimensions), got shape {list(array.shape)}")
    if array.dtype.kind not in "fiu":
        raise ExplorerError(f"chunked data must be numbers, got dtype {array.dtype}")
    return array


def open_npy(path: str, chunk_rows: int = CHUNK_ROWS):
    """A .npy file as a dask array whose chunks are read from the file when computed (plain
    reads, not a memory map: the pages of a map stay in the process's resident memory once
    touched, and 10⁸ rows would count 800 MB there)."""
    import dask
    import dask.array as da
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = header(handle)
        offset = handle.tell()
    if fortran and len(shape) > 1:
        raise ExplorerError(f"{path}: a Fortran-ordered array cannot be read by rows (save it in C order)")
    if dtype.hasobject or len(shape) not in (1, 2) or not shape[0]:
        raise ExplorerError(f"{path}: chunked data must be rows of numbers, got shape {list(shape)} of {dtype}")
    row_bytes = dtype.itemsize * int(np.prod(shape[1:], dtype=int))

    def read(start, stop):
        with open(path, "rb") as handle:
            handle.seek(offset + start * row_bytes)
            rows = np.fromfile(handle, dtype=dtype, count=(stop - start) * (row_bytes // dtype.itemsize))
        return rows.reshape((stop - start,) + tuple(shape[1:]))

    parts = [da.from_delayed(dask.delayed(read)(start, min(start + chunk_rows, shape[0])),
                             shape=(min(start + chunk_rows, shape[0]) - start,) + tuple(shape[1:]), dtype=dtype)
             for start in range(0, shape[0], chunk_rows)]
    return da.concatenate(parts)


def open_parquet(path: str):
    """Parquet (a file, or a folder of files) as a dask array of its numeric columns, one chunk
    per row group as dask reads it; one column gives one number per row. Needs pyarrow."""
    try:
        import dask.dataframe as dd
        frame = dd.read_parquet(path)
    except ImportError as exc:
        raise ExplorerError(f"reading Parquet needs dask's dataframes and pyarrow: pip install "
                            f"'dask[dataframe]' pyarrow ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - any failure to read the file is the user's file
        raise ExplorerError(f"cannot read {path!r} as Parquet: {exc}") from None
    other = [name for name, kind in frame.dtypes.items() if kind.kind not in "fiu"]
    if other:
        raise ExplorerError(f"{path}: every column must hold numbers; {', '.join(map(str, other))} do not")
    array = frame.to_dask_array(lengths=True)
    return array[:, 0] if array.shape[1] == 1 else array


def chunk_pass(model, block, theta, first_row: int):
    """log p(X_c | θ) and the posterior's statistics S_c for one chunk of rows."""
    x = np.asarray(block, dtype=float)
    finite = np.isfinite(x).reshape(len(x), -1).all(axis=1)
    if not finite.all():
        raise ExplorerError(f"data row {first_row + int(np.argmin(finite)) + 1} is not a finite number")
    done = model.for_chunk(x)._evaluate(theta)
    return done.loglik, done.stats


def chunked_em(model_class, data, theta0: dict | None = None, *, seed: int = 0, max_iterations: int = 100,
               tol: float = 1e-10, frozen=frozenset(), chunk_rows: int = CHUNK_ROWS, scheduler="threads",
               progress=None, **options) -> list[ChunkedStep]:
    """EM for `model_class` (a model that declares `takes_chunks`: a latent-class model with
    `prepare_points`) on `data` read in chunks; stops when log p rises by less than `tol`
    (relative) or after `max_iterations`. `progress(step)` is called after each iteration."""
    if not getattr(model_class, "takes_chunks", False):
        raise ExplorerError(f"model {model_class.name} cannot take its data in chunks (it does not declare "
                            f"takes_chunks)")
    import dask

    array = as_dask(data, chunk_rows)
    step = max(1, array.shape[0] // SAMPLE_ROWS)
    sample = np.asarray(array[::step][:SAMPLE_ROWS])
    try:
        model = model_class(sample, **options)
    except ExplorerError as exc:
        raise ExplorerError(f"{exc} (in a sample of {len(sample):,} of the {array.shape[0]:,} rows, "
                            f"of shape {list(array.shape)})") from None
    theta = model.start_theta(seed, theta0)
    frozen = model.check_frozen(frozen)
    starts = np.cumsum((0,) + array.chunks[0][:-1])
    blocks = array.to_delayed().ravel()
    steps, previous = [], None
    for iteration in range(1, max_iterations + 1):
        started = time.monotonic()
        parts = [dask.delayed(chunk_pass)(model, block, theta, int(first)) for block, first in zip(blocks, starts)]
        results = dask.compute(*parts, scheduler=scheduler)
        loglik = float(sum(part[0] for part in results))
        stats = results[0][1]
        for _, part in results[1:]:
            stats = add_stats(stats, part)
        token = object()                       # the q the statistics stand for: never built
        model.remember_stats(token, stats)
        theta = model.theta(model.m_step(token, theta, frozen))
        steps.append(ChunkedStep(iteration, loglik, theta, time.monotonic() - started))
        if progress is not None:
            progress(steps[-1])
        if previous is not None and abs(loglik - previous) <= tol * max(1.0, abs(loglik)):
            break
        previous = loglik
    return steps
