"""Built-in data sets and the reader for users' files.

The CSV files in `data/` are copied unchanged from the project's reference data (see
`data/PROVENANCE.md`). `read_table` parses a user's CSV (or `.npy` array) into a header and a
float matrix and refuses, with the row and column named, anything that is not a finite number:
nothing is dropped or changed silently.
"""
from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

import numpy as np

from ..core.errors import ExplorerError
from ..core.model import MAX_MAGNITUDE

MAX_FILE_BYTES = 1 << 30    # data files larger than 1 GiB are refused before they are read

PROVENANCE = {
    "faithful.csv": "Old Faithful geyser, 272 eruptions: eruptions and waiting time (minutes). "
                    "Azzalini & Bowman (1990), Applied Statistics 39:357–365; R datasets::faithful.",
    "galaxies.csv": "Velocities (km/s) of 82 galaxies in the Corona Borealis region. "
                    "Roeder (1990), JASA 85:617–624; R MASS::galaxies.",
    "wine.csv": "13 chemical constituents of 178 Italian wines from three cultivars. Forina et al. (1988), "
                "PARVUS; UCI Machine Learning Repository 'Wine' (Aeberhard, Coomans & de Vel 1992).",
    "gehan.csv": "Remission times (weeks) of 42 leukaemia patients, 6-MP against control. "
                 "Gehan (1965), Biometrika 52:203–223; R MASS::gehan.",
    "airquality.csv": "Daily air quality in New York, May–September 1973: Ozone (ppb), Solar.R (langleys), "
                      "Wind (mph), Temp (°F); empty cells are missing (37 Ozone, 7 Solar.R). Chambers, "
                      "Cleveland, Kleiner & Tukey (1983); R datasets::airquality.",
    "zeamays.csv": "Darwin's Zea mays: heights (inches) of 15 pairs of crossed and self-fertilised plants, "
                   "and their difference. Darwin (1876); Fisher (1935), The Design of Experiments; "
                   "R HistData::ZeaMays.",
}


def builtin_text(filename: str) -> str:
    return resources.files(__package__).joinpath("data", filename).read_text()


def builtin_table(filename: str, missing_ok: bool = False) -> tuple[list[str], np.ndarray]:
    return parse_csv(builtin_text(filename), filename, numeric_only=False, missing_ok=missing_ok)


def builtin_columns(filename: str, *names: str) -> np.ndarray:
    """The named columns of a built-in data file, in that order (one name: a 1-D array)."""
    header, values = builtin_table(filename)
    picked = values[:, [header.index(name) for name in names]]
    return picked[:, 0] if len(names) == 1 else picked


def two_columns(model: str, header: list[str], values: np.ndarray, order: str = "") -> np.ndarray:
    """A table of exactly two numeric columns for `model` (`order` says which is which)."""
    if values.shape[1] != 2:
        raise ExplorerError(f"{model} data must have two numeric columns{', ' + order if order else ''}; "
                            f"got {values.shape[1]} ({', '.join(header)})")
    return values


def read_table(path: str | Path, missing_ok: bool = False) -> tuple[list[str], np.ndarray]:
    """Header and float matrix from a CSV file with a header row, or from a `.npy` array.
    With missing_ok (for models that declare `accepts_missing`), an empty cell is NaN.
    A CSV is read as a stream (see `parse_rows`): its memory is about twice the numbers' own."""
    path = Path(path)
    if not path.exists():
        raise ExplorerError(f"data file {str(path)!r} does not exist")
    if not path.is_file():
        raise ExplorerError(f"data file {str(path)!r} is not a regular file (a directory or a device?)")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ExplorerError(f"{path.name}: {size / 2**20:.0f} MB is over the {MAX_FILE_BYTES // 2**20} MB limit "
                            f"for data files")
    if path.suffix == ".npy":
        return npy_table(path, path.name, missing_ok)
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return parse_rows(csv.reader(handle), path.name, missing_ok=missing_ok)
    except UnicodeDecodeError:
        raise ExplorerError(f"{path.name}: not a text CSV file (it is not UTF-8)") from None
    except OSError as exc:
        raise ExplorerError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None


def table_from_bytes(content: bytes, filename: str, missing_ok: bool = False) -> tuple[list[str], np.ndarray]:
    """Header and float matrix from a file's bytes, as `read_table` reads the file: a `.npy`
    array (by its name), else a UTF-8 CSV with a header row (an upload in the app)."""
    if filename.lower().endswith(".npy"):
        return npy_table(io.BytesIO(content), filename, missing_ok)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise ExplorerError(f"{filename}: not a text CSV file (it is not UTF-8; a .npy array needs its "
                            f".npy name)") from None
    return parse_csv(text, filename, missing_ok=missing_ok)


def npy_table(source, name: str, missing_ok: bool = False) -> tuple[list[str], np.ndarray]:
    """The table of a `.npy` array read from `source` (a path or a file object) called `name`."""
    try:
        values = np.load(source, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a user error here
        raise ExplorerError(f"{name}: not a readable .npy array ({exc})") from None
    return array_table(values, name, missing_ok)


def array_table(values, source: str = "array", missing_ok: bool = False) -> tuple[list[str], np.ndarray]:
    """A numeric array as a table (1-D arrays become one column), checked to be finite (NaN
    allowed, as a missing value, with missing_ok)."""
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.dtype.kind not in "iuf":
        raise ExplorerError(f"{source}: expected a real numeric array (integers or floats) with one or two "
                            f"dimensions, got shape {list(values.shape)} of {values.dtype}")
    values = values.astype(float)
    with np.errstate(invalid="ignore"):
        too_big = np.abs(values) > MAX_MAGNITUDE
    bad = np.argwhere(too_big | (np.isinf(values) if missing_ok else ~np.isfinite(values)))
    if len(bad):
        row, col = bad[0]
        raise ExplorerError(f"{source}: row {row + 1}, column {col + 1} is {values[row, col]} "
                            f"(every value must be a finite number of size at most {MAX_MAGNITUDE:g})")
    return [f"x{j + 1}" for j in range(values.shape[1])], values


def parse_csv(text: str, source: str = "CSV", numeric_only: bool = True, missing_ok: bool = False):
    """Parse CSV text with a header row (see `parse_rows`); with numeric_only=False,
    non-numeric columns are dropped (used for built-in files only)."""
    rows = csv.reader(io.StringIO(text))
    if not numeric_only:
        try:
            rows = [row for row in rows if _kept(row)]
        except csv.Error as exc:
            raise ExplorerError(f"{source}: not a readable CSV ({exc}; an unclosed quote?)") from None
        header = [h.strip() for h in rows[0]] if rows else []
        keep = [j for j in range(len(header)) if all(_is_number(r[j]) or (missing_ok and not r[j].strip())
                                                     for r in rows[1:] if j < len(r))]
        return parse_rows(iter(rows), source, missing_ok, keep)
    return parse_rows(rows, source, missing_ok)


def _kept(row) -> bool:
    return len(row) > 1 or bool(row and row[0].strip())     # blank lines are skipped; "," is a row


def parse_rows(rows, source: str = "CSV", missing_ok: bool = False, keep: list[int] | None = None):
    """Header and float matrix from CSV rows (lists of cells, as csv.reader gives), read as a
    stream: every cell must be a finite number, or, with missing_ok, empty (read as NaN: a
    missing value); `keep`: the columns kept (all if None). Rows are converted CHUNK_ROWS at a
    time, so the memory is the numbers (twice, while the chunks are joined) and one chunk of
    text; a table of more than MAX_VALUES numbers is refused. Errors name the row (counting
    non-blank rows, the header as row 1) and the column."""
    try:
        header = None
        for row in rows:
            if _kept(row):
                header = [h.strip() for h in row]
                break
        if header is None:
            raise ExplorerError(f"{source}: the file is empty")
        if any(_is_number(h) for h in header):
            raise ExplorerError(f"{source}: the first row must be a header of column names, "
                                f"got {','.join(header)}")
        keep = list(range(len(header))) if keep is None else keep
        chunks, chunk, count, first = [], [], 0, 2
        for row in rows:
            if not _kept(row):
                continue
            chunk.append(row)
            if len(chunk) == CHUNK_ROWS:
                chunks.append(_convert(chunk, first, header, keep, source, missing_ok))
                first += len(chunk)
                count += len(chunk) * len(keep)
                chunk = []
                if count > MAX_VALUES:
                    raise ExplorerError(f"{source}: more than {MAX_VALUES:,} numbers ({MAX_VALUES * 8 // 2**20} MB as "
                                        f"floats) is over the limit for a data file; give a sample of the rows, "
                                        f"or use `python -m explorer chunked` for data past memory")
        if chunk:
            chunks.append(_convert(chunk, first, header, keep, source, missing_ok))
    except csv.Error as exc:
        raise ExplorerError(f"{source}: not a readable CSV ({exc}; an unclosed quote?)") from None
    if not chunks:
        raise ExplorerError(f"{source}: no data rows below the header")
    values = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    return [header[j] for j in keep], values


CHUNK_ROWS = 1 << 14           # rows converted at a time
MAX_VALUES = 100_000_000       # numbers in one data file, at most (800 MB as floats)


def _convert(chunk, first: int, header, keep, source, missing_ok) -> np.ndarray:
    """The numbers of a chunk of rows (the first is row `first`). The whole chunk is converted
    at once; if that fails or finds a value out of range, row by row, which finds the first
    error in file order and raises it (an empty cell under missing_ok is NaN there)."""
    if all(len(row) == len(header) for row in chunk):
        try:
            values = np.array(chunk, dtype=float)
        except ValueError:
            values = None
        if values is not None:
            values = values[:, keep] if len(keep) != len(header) else values
            if np.all(np.abs(values) <= MAX_MAGNITUDE):        # finite too: NaN and ±inf fail it
                return values
    values = np.empty((len(chunk), len(keep)))
    for i, row in enumerate(chunk, start=first):
        if len(row) != len(header):
            raise ExplorerError(f"{source}: line {i} has {plural(len(row), 'value')}, but the header names "
                                f"{plural(len(header), 'column')} ({', '.join(header)}): each row needs "
                                f"one value per column, separated by commas")
        for out, j in enumerate(keep):
            cell = row[j].strip()
            if missing_ok and not cell:
                values[i - first, out] = np.nan
                continue
            if not _is_number(cell):
                raise ExplorerError(f"{source}: row {i}, column {header[j]!r}: {cell!r} is not a number")
            number = float(cell)
            if not (np.isfinite(number) and abs(number) <= MAX_MAGNITUDE):
                raise ExplorerError(f"{source}: row {i}, column {header[j]!r} is {cell!r} "
                                    f"(every value must be a finite number of size at most {MAX_MAGNITUDE:g})")
            values[i - first, out] = number
    return values


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def plural(n: int, word: str) -> str:
    """'1 value', '2 values'."""
    return f"{n} {word}{'' if n == 1 else 's'}"
