"""EM on data past memory: chunk by chunk through dask, the same θ as the in-memory session."""
import numpy as np
import pytest

from explorer import Session
from explorer.cli import main
from explorer.core.errors import ExplorerError
from explorer.models import MODELS

da = pytest.importorskip("dask.array")
from explorer.core.chunked import chunked_em  # noqa: E402


@pytest.mark.parametrize("name", ["gmm1d", "gmm2d"])
def test_chunked_em_gives_the_sessions_theta_on_100_000_points(name):
    cls = MODELS[name]
    x = cls.synthetic(100_000, 1)
    full = cls(x)
    theta0 = {k: np.array(v) for k, v in full.start_theta(3).items()}
    session = Session(full, theta0, keep_q=2)
    for _ in range(15):
        session.iterate()
    steps = chunked_em(cls, da.from_array(x, chunks=(7_000,) + x.shape[1:]), theta0, max_iterations=15, tol=0)
    assert len(steps) == 15
    for key, value in session.current.theta.items():
        np.testing.assert_allclose(steps[-1].theta[key], value, rtol=0, atol=1e-10)
    # an iteration's log p is at the θ it started from: the session's state before its last E step
    assert steps[-1].loglik == pytest.approx(session.history[-3].loglik, rel=1e-13)
    assert all(b.loglik >= a.loglik - 1e-9 for a, b in zip(steps, steps[1:]))       # EM's guarantee


def test_a_non_finite_row_is_named_with_its_place_in_the_whole_data():
    x = MODELS["gmm1d"].synthetic(30_000, 0)
    x[23_456] = np.nan
    with pytest.raises(ExplorerError, match="data row 23457 is not a finite number"):
        chunked_em(MODELS["gmm1d"], x, max_iterations=2, chunk_rows=10_000)


def test_the_cli_reads_a_memory_mapped_npy_in_chunks(tmp_path, capsys):
    path = tmp_path / "big.npy"
    np.save(path, MODELS["gmm2d"].synthetic(50_000, 2))
    args = ["chunked", "--model", "gmm2d", "--data-file", str(path), "--chunk-rows", "8000"]
    assert main(args + ["--until-converged", "--json"]) == 0
    import json
    out = json.loads(capsys.readouterr().out)
    assert out["rows"] == 50_000 and 2 <= len(out["iterations"]) < 1000
    assert main(args + ["--iterations", "2", "--scheduler", "synchronous"]) == 0
    assert "gmm2d on 50,000 rows in chunks of 8,000" in capsys.readouterr().out
    assert main(["chunked", "--model", "gmm1d", "--data-file", str(path), "--iterations", "1"]) == 2
    assert "gmm1d data must be one column" in capsys.readouterr().err
    (tmp_path / "bad.npy").write_text("not an array")
    assert main(["chunked", "--model", "gmm1d", "--data-file", str(tmp_path / "bad.npy"), "--iterations", "1"]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(args + ["--iterations", "1", "--scheduler", "nope"]) == 2


def test_parquet_gives_the_same_theta_as_the_npy_file(tmp_path, capsys):
    """A Parquet folder of several files (row groups of one column) and the same rows as .npy."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    import json
    x = MODELS["gmm1d"].synthetic(40_000, 4)
    np.save(tmp_path / "x.npy", x)
    folder = tmp_path / "x.parquet"
    folder.mkdir()
    for i, part in enumerate(np.array_split(x, 3)):
        pd.DataFrame({"x": part}).to_parquet(folder / f"part-{i}.parquet", row_group_size=5_000)
    fits = {}
    for name in ("x.npy", "x.parquet"):
        args = ["chunked", "--model", "gmm1d", "--data-file", str(tmp_path / name), "--iterations", "4",
                "--chunk-rows", "9000", "--json"]
        assert main(args) == 0
        fits[name] = json.loads(capsys.readouterr().out)
    assert fits["x.parquet"]["rows"] == 40_000
    for a, b in zip(fits["x.npy"]["iterations"], fits["x.parquet"]["iterations"]):
        assert b["loglik"] == pytest.approx(a["loglik"], rel=1e-12)
        for key in a["theta"]:
            np.testing.assert_allclose(b["theta"][key], a["theta"][key], rtol=0, atol=1e-10)
    pd.DataFrame({"x": x[:100], "label": ["a"] * 100}).to_parquet(tmp_path / "mixed.parquet")
    assert main(["chunked", "--model", "gmm1d", "--data-file", str(tmp_path / "mixed.parquet"),
                 "--iterations", "1"]) == 2
    assert "every column must hold numbers; label" in capsys.readouterr().err
