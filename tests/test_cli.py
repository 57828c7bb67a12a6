"""The CLI's JSON contract, and a one-line message with a non-zero exit for each bad input."""
import json
import subprocess
import sys

import numpy as np
import pytest

from explorer.cli import main
from explorer.models import MODELS


def run_cli(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_models_lists_every_model_with_its_spec(capsys):
    code, out, _ = run_cli(["models", "--json"], capsys)
    assert code == 0
    models = {m["name"]: m for m in json.loads(out)["models"]}
    assert set(models) == set(MODELS) >= {"linkage", "coins", "gmm1d", "gmm2d", "two-source", "factor-analysis",
                                          "censored", "student-t", "mvn-missing", "hmm", "bernoulli-mixture",
                                          "regression-mixture"}
    assert models["censored"]["parameters"] == [{"name": "rate", "shape": [], "constraint": "positive",
                                                 "label": r"\lambda", "frozen_by_default": False}]
    assert [p["name"] for p in models["gmm2d"]["parameters"]] == ["weights", "means", "covariances"]
    assert models["gmm2d"]["parameters"][2]["shape"] == [2, 2, 2]
    assert models["coins"]["parameters"][2]["frozen_by_default"] is True
    assert "galaxies" in models["gmm1d"]["datasets"]
    assert models["gmm1d"]["options"][0]["name"] == "K"
    assert "exact" in models["linkage"]["families"]


def test_trace_prints_one_state_per_half_step(capsys):
    code, out, _ = run_cli(["trace", "--model", "linkage", "--theta0", '{"theta": 0.5}',
                            "--iterations", "3", "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    assert result["model"] == "linkage"
    states = result["states"]
    assert [s["kind"] for s in states] == ["init", "E", "M", "E", "M", "E", "M"]
    assert [s["index"] for s in states] == list(range(7))
    assert states[2]["theta"]["theta"] == pytest.approx(0.608247423, abs=1e-9)
    for s in states:
        assert set(s) == {"index", "kind", "theta", "loglik", "F", "kl", "warnings", "detail", "passes", "rate",
                          "stalled"}
        assert s["kl"] == pytest.approx(s["loglik"] - s["F"], abs=1e-12)


def test_trace_theta0_subset_and_nested_lists(capsys):
    code, out, _ = run_cli(["trace", "--model", "gmm2d", "--theta0", '{"weights": [0.3, 0.7]}',
                            "--seed", "1", "--until-converged", "--tol", "1e-6", "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    first = result["states"][0]["theta"]
    assert first["weights"] == [0.3, 0.7]
    assert np.shape(first["covariances"]) == (2, 2, 2)
    assert result["converged"] is True
    logliks = [s["loglik"] for s in result["states"] if s["kind"] == "M"]
    assert abs(logliks[-1] - logliks[-2]) <= 1e-6


def test_trace_freeze_holds_a_parameter(capsys):
    code, out, _ = run_cli(["trace", "--model", "gmm1d", "--freeze", "weights,variances",
                            "--iterations", "5", "--json"], capsys)
    states = json.loads(out)["states"]
    assert code == 0 and json.loads(out)["frozen"] == ["variances", "weights"]
    assert all(s["theta"]["weights"] == states[0]["theta"]["weights"] for s in states)
    assert states[-1]["theta"]["means"] != states[0]["theta"]["means"]


def test_trace_reads_csv_and_npy_files(tmp_path, capsys):
    csv = tmp_path / "x.csv"
    csv.write_text("value\n" + "\n".join(str(v) for v in [1, 1.2, 0.8, 5, 5.3, 4.9, 5.1, 1.1]))
    npy = tmp_path / "x.npy"
    np.save(npy, np.loadtxt(csv, skiprows=1))
    outputs = []
    for path in (csv, npy):
        code, out, _ = run_cli(["trace", "--model", "gmm1d", "--data-file", str(path),
                                "--iterations", "2", "--json"], capsys)
        assert code == 0
        outputs.append(json.loads(out)["states"])
    assert outputs[0] == outputs[1]


BAD_INPUTS = [
    (["--model", "nope"], "unknown model 'nope'"),
    (["--model", "gmm1d", "--option", "K=zero"], "option K must be an integer"),
    (["--model", "gmm1d", "--option", "L=2"], "has no option 'L'"),
    (["--model", "linkage", "--theta0", "{oops"], "--theta0 is not valid JSON"),
    (["--model", "linkage", "--theta0", "[0.5]"], "--theta0 must be a JSON object"),
    (["--model", "linkage", "--theta0", '{"thet": 0.5}'], "has no parameter 'thet'"),
    (["--model", "linkage", "--theta0", '{"theta": 1.5}'], "'theta' must lie in [0, 1]"),
    (["--model", "gmm1d", "--theta0", '{"variances": [-1, 2]}'], "'variances' must be positive"),
    (["--model", "gmm1d", "--theta0", '{"weights": [0.2, 0.2]}'], "'weights' must sum to 1"),
    (["--model", "gmm1d", "--theta0", '{"means": [1, 2, 3]}'], "'means' must have shape [2]"),
    (["--model", "gmm2d", "--theta0", '{"covariances": [[[1, 0], [0, -1]], [[1, 0], [0, 1]]]}'],
     "must be positive definite"),
    (["--model", "gmm1d", "--freeze", "mu"], "cannot freeze 'mu'"),
    (["--model", "gmm1d", "--data", "nope"], "has no data set 'nope'"),
    (["--model", "gmm1d", "--data-file", "/no/such/file.csv"], "does not exist"),
]


@pytest.mark.parametrize("args, message", BAD_INPUTS)
def test_bad_input_exits_non_zero_with_a_message(args, message, capsys):
    code, out, err = run_cli(["trace", *args, "--iterations", "1", "--json"], capsys)
    assert code == 2 and out == ""
    assert message in err and err.startswith("error: ") and err.count("\n") == 1


BAD_FILES = [
    ("value\n1\n2\nnan\n4\n5\n", "row 4, column 'value' is 'nan'"),
    ("value\n1\n2\nabc\n4\n5\n", "row 4, column 'value': 'abc' is not a number"),
    ("value\n1\n2\n", "needs at least 4 data points, got 2"),
    ("a,b\n1,2\n3,4\n5,6\n7,8\n", "must have one numeric column, got 2"),
    ("1\n2\n3\n4\n5\n", "the first row must be a header"),
    ("value\n1\n2,3\n4\n5\n", "line 3 has 2 values, but the header names 1 column (value)"),
    ("", "the file is empty"),
]


@pytest.mark.parametrize("text, message", BAD_FILES)
def test_bad_csv_is_refused_with_the_row_named(text, message, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    code, _, err = run_cli(["trace", "--model", "gmm1d", "--data-file", str(path),
                            "--iterations", "1"], capsys)
    assert code == 2 and message in err


def test_bad_linkage_and_coins_files(tmp_path, capsys):
    path = tmp_path / "l.csv"
    path.write_text("y1,y2,y3,y4\n125,18,20.5,34\n")
    code, _, err = run_cli(["trace", "--model", "linkage", "--data-file", str(path), "--iterations", "1"], capsys)
    assert code == 2 and "non-negative integers" in err
    path.write_text("heads,tosses\n5,10\n11,10\n")
    code, _, err = run_cli(["trace", "--model", "coins", "--data-file", str(path), "--iterations", "1"], capsys)
    assert code == 2 and "row 2: need 0 <= heads <= tosses" in err


def test_module_entry_point_runs_without_a_traceback():
    done = subprocess.run([sys.executable, "-m", "explorer", "trace", "--model", "nope", "--iterations", "1"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "unknown model" in done.stderr
    done = subprocess.run([sys.executable, "-m", "explorer", "trace", "--model", "coins",
                           "--iterations", "1"], capture_output=True, text=True)
    assert done.returncode == 0 and "kind" in done.stdout


def test_a_collapsing_component_is_held_at_the_floor_with_a_warning(tmp_path, capsys):
    """Five identical points and a component started on them with a tiny variance: the variance
    would go to 0 and log p to infinity; it is held at the documented floor, with a warning."""
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.normal(0, 1, 100), np.full(5, 7.0)])
    path = tmp_path / "collapse.csv"
    path.write_text("x\n" + "\n".join(map(str, data)))
    theta0 = json.dumps({"weights": [0.95, 0.05], "means": [0.0, 7.0], "variances": [1.0, 1e-3]})
    code = main(["trace", "--model", "gmm1d", "--data-file", str(path), "--theta0", theta0,
                 "--iterations", "3", "--json"])
    states = json.loads(capsys.readouterr().out)["states"]
    assert code == 0
    floor = 1e-6 * data.var()
    assert states[-1]["theta"]["variances"][1] == pytest.approx(floor, rel=1e-12)
    assert any("held at the floor" in w and "component 2" in w for w in states[-1]["warnings"])
    assert np.isfinite(states[-1]["loglik"])
    code = main(["trace", "--model", "gmm1d", "--data-file", str(path), "--theta0", theta0, "--iterations", "1"])
    assert "warning: component 2: variance held at the floor" in capsys.readouterr().out


def test_check_watch_prints_what_changed_after_each_save(tmp_path):
    """`check --watch`: the report, then after a save with a planted bug the check that now
    fails, after a broken save the error, after the fix the check that passes again."""
    import os
    import subprocess
    import sys
    import threading
    import time
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    path = tmp_path / "zip_model.py"
    good = (root / "examples" / "zero_inflated_poisson.py").read_text()
    path.write_text(good)
    process = subprocess.Popen([sys.executable, "-m", "explorer", "check", f"{path}:ZeroInflatedPoisson", "--watch",
                                "--watch-for", "150"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    lines = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()

    def wait_for(text, count=1):
        deadline = time.time() + 60
        while time.time() < deadline:
            if "".join(lines).count(text) >= count:
                return "".join(lines)
            time.sleep(0.2)
        raise AssertionError(f"no {text!r} in:\n{''.join(lines)}")

    def save(text, version):
        path.write_text(text)
        os.utime(path, (time.time() + version, time.time() + version))

    try:
        first = wait_for("checks passed, 0 failed")
        save(good.replace('new["lam"] = max(', 'new["lam"] = 1.3 * max('), 1)          # a planted bug
        wait_for("now FAIL")
        save(good.replace("def m_step(self, q, theta, frozen=frozenset()):", "def m_step(self, q"), 2)
        wait_for("SyntaxError")
        save(good, 3)                                                                 # fixed
        out = wait_for("checks passed, 0 failed", 2)
    finally:
        process.kill()
    saves = out[len(first):].split("--- saved ")[1:]
    assert len(saves) == 3
    assert "now FAIL" in saves[0] and "M step" in saves[0]
    assert "SyntaxError" in saves[1]
    assert "now PASS" in saves[2] and "0 failed" in saves[2]


def test_export_png_and_svg_from_the_cli(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    target = tmp_path / "em.png"
    assert main(["export", "--model", "linkage", "--iterations", "3", "--format", "png", "-o", str(target)]) == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    one = tmp_path / "landscape.svg"
    assert main(["export", "--model", "gmm1d", "--iterations", "2", "--format", "svg", "--plot", "landscape",
                 "--param", "means[1]", "-o", str(one)]) == 0
    assert "<svg" in one.read_text()
    capsys.readouterr()
    assert main(["export", "--model", "linkage", "--iterations", "1", "--format", "svg"]) == 2
    assert "needs --output FILE" in capsys.readouterr().err
    assert main(["export", "--model", "linkage", "--iterations", "1", "--format", "png", "--param", "nope",
                 "-o", str(tmp_path / "x.png")]) == 2
    assert "'nope' is not a coordinate" in capsys.readouterr().err
