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


def read_table(path: str | Path, missing_ok: bool = False) -> tuple[list[str], np.ndarray]:
    """Header and float matrix from a CSV file with a header row, or from a `.npy` array.
    With missing_ok (for models that declare `accepts_missing`), an empty cell is NaN."""
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
        try:
            values = np.load(path, allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a user error here
            raise ExplorerError(f"{path.name}: not a readable .npy array ({exc})") from None
        return array_table(values, path.name, missing_ok)
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_FILE_BYTES + 1).decode("utf-8")
    except UnicodeDecodeError:
        raise ExplorerError(f"{path.name}: not a text CSV file (it is not UTF-8)") from None
    except OSError as exc:
        raise ExplorerError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    return parse_csv(text, path.name, missing_ok=missing_ok)


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
    """Parse CSV text with a header row. Every cell must be a finite number, or, with
    missing_ok, empty (read as NaN: a missing value); with numeric_only=False, non-numeric
    columns are dropped (used for built-in files only)."""
    try:
        rows = [row for row in csv.reader(io.StringIO(text))   # blank lines are skipped; "," is a row
                if len(row) > 1 or (row and row[0].strip())]
    except csv.Error as exc:
        raise ExplorerError(f"{source}: not a readable CSV ({exc}; an unclosed quote?)") from None
    if not rows:
        raise ExplorerError(f"{source}: the file is empty")
    header = [h.strip() for h in rows[0]]
    if any(_is_number(h) for h in header):
        raise ExplorerError(f"{source}: the first row must be a header of column names, "
                            f"got {','.join(header)}")
    if len(rows) < 2:
        raise ExplorerError(f"{source}: no data rows below the header")
    keep = list(range(len(header)))
    if not numeric_only:
        keep = [j for j in keep if all(_is_number(r[j]) or (missing_ok and not r[j].strip())
                                       for r in rows[1:] if j < len(r))]
    values = np.empty((len(rows) - 1, len(keep)))
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ExplorerError(f"{source}: line {i} has {count(len(row), 'value')}, but the header names "
                                f"{count(len(header), 'column')} ({', '.join(header)}): each row needs "
                                f"one value per column, separated by commas")
        for out, j in enumerate(keep):
            cell = row[j].strip()
            if missing_ok and not cell:
                values[i - 2, out] = np.nan
                continue
            if not _is_number(cell):
                raise ExplorerError(f"{source}: row {i}, column {header[j]!r}: {cell!r} is not a number")
            number = float(cell)
            if not (np.isfinite(number) and abs(number) <= MAX_MAGNITUDE):
                raise ExplorerError(f"{source}: row {i}, column {header[j]!r} is {cell!r} "
                                    f"(every value must be a finite number of size at most {MAX_MAGNITUDE:g})")
            values[i - 2, out] = number
    return [header[j] for j in keep], values


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def count(n: int, word: str) -> str:
    """'1 value', '2 values'."""
    return f"{n} {word}{'' if n == 1 else 's'}"
