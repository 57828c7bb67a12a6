"""The bad-input corpus: every malformed input to the CLI, the Python API and the app's upload gets
a clear message (the CLI: one `error:` line and status 2), and nothing is accepted silently or
ends in a traceback. The corpus is generated from the pieces below; its size is asserted."""
import json

import numpy as np
import pytest

from explorer import Session, make_model
from explorer.app import ExplorerState
from explorer.cli import main
from explorer.core.errors import ExplorerError
from explorer.models import MODELS

BAD_THETA_VALUES = ['"0.5"', "true", "null", "NaN", "Infinity", "1e308", "[[[[[[1]]]]]]", '{"a": 1}']
FIRST_PARAM = {name: make_model(name).params()[0].name for name in MODELS}

BAD_FLAGS = [
    ["--seed", "-1"], ["--seed", "abc"], ["--seed", "1.5"], ["--data-seed", "-1"], ["--synthetic", "-5"],
    ["--synthetic", "0"], ["--synthetic", "100000000"], ["--synthetic", "ten"], ["--separation", "1e308"],
    ["--separation", "nan"], ["--separation", "inf"], ["--theta0", "{"], ["--theta0", "[1, 2]"],
    ["--theta0", '{"nope": 1}'], ["--family", "nope"], ["--schedule", "gradient:inf"],
    ["--schedule", "gradient:-1"], ["--schedule", "gradient:nan"], ["--schedule", "incremental:0"],
    ["--schedule", "incremental:x"], ["--schedule", "warp"], ["--option", "K"], ["--option", "Z=3"],
    ["--freeze", "nope"], ["--data", "nope"],
]
BAD_TRACE = [
    ["--iterations", "-1"], ["--iterations", "x"], ["--until-converged", "--tol", "nan"],
    ["--until-converged", "--tol", "0"], ["--until-converged", "--tol", "-1"], ["--until-converged", "--tol", "inf"],
    ["--until-converged", "--theta-tol", "nan"], ["--until-converged", "--max-iterations", "0"],
]
BAD_OTHER_COMMANDS = [
    ["check", "linkage", "--points", "0"], ["check", "linkage", "--points", "-1"], ["check", "linkage", "--seed", "-1"],
    ["check", "nope"], ["check", "missing_file.py:Model"], ["landscape", "--model", "linkage", "--param", "nope"],
    ["landscape", "--model", "linkage", "--param", "theta", "--grid", "2"],
    ["landscape", "--model", "linkage", "--param", "theta", "--grid", "100000"],
    ["landscape", "--model", "gmm1d", "--param", "means[9]"], ["compare", "--model", "linkage"],
    ["compare", "--model", "two-source", "--family", "mean-field", "--tol", "nan"], ["nope"],
]


def bad_files(tmp_path):
    """(name, path) of malformed data files."""
    files = {
        "empty.csv": "", "header-only.csv": "x\n", "numeric-header.csv": "1,2\n3,4\n",
        "text-cell.csv": "x\n1\nabc\n3\n", "nan-cell.csv": "x\n1\nnan\n3\n", "inf-cell.csv": "x\n1\ninf\n3\n",
        "huge-cell.csv": "x\n1\n1e308\n3\n", "ragged.csv": "x,y\n1,2\n3\n", "empty-cell.csv": "x,y\n1,\n2,3\n",
        "unclosed-quote.csv": 'x\n"' + "1" * 200_000 + "\n", "latin1.csv": None,
    }
    out = []
    for name, text in files.items():
        path = tmp_path / name
        if text is None:
            path.write_bytes("x\n1\n\xe9\n".encode("latin-1"))
        else:
            path.write_text(text)
        out.append(path)
    for name, array in {"complex.npy": np.array([1 + 2j, 3j]), "timedelta.npy": np.array([1, 2], dtype="m8[s]"),
                        "three-d.npy": np.zeros((2, 2, 2)), "bool.npy": np.array([True, False]),
                        "strings.npy": np.array(["a", "b"]), "nan.npy": np.array([1.0, np.nan, 2.0])}.items():
        np.save(tmp_path / name, array)
        out.append(tmp_path / name)
    out.append(tmp_path)                               # a directory
    out.append(tmp_path / "does-not-exist.csv")
    return out


def cli_corpus(tmp_path) -> list[list[str]]:
    cases = []
    for name in sorted(MODELS):
        for value in BAD_THETA_VALUES:
            cases.append(["trace", "--model", name, "--iterations", "1", "--theta0",
                          f'{{"{FIRST_PARAM[name]}": {value}}}'])
    for flags in BAD_FLAGS:
        cases.append(["trace", "--model", "gmm1d", "--iterations", "1", *flags])
    for flags in BAD_TRACE:
        cases.append(["trace", "--model", "linkage", *flags])
    for option in ("K=abc", "K=0", "K=1000", "K=2.5"):
        for name in ("gmm1d", "gmm2d", "hmm"):
            cases.append(["trace", "--model", name, "--iterations", "1", "--option", option])
    for path in bad_files(tmp_path):
        cases.append(["trace", "--model", "gmm1d", "--iterations", "1", "--data-file", str(path)])
    cases += BAD_OTHER_COMMANDS
    return cases


def test_the_corpus_has_at_least_150_bad_inputs(tmp_path):
    assert len(cli_corpus(tmp_path)) + len(API_CASES) + len(UPLOADS) >= 150


def test_every_bad_cli_input_gets_one_error_line_and_status_2(tmp_path, capsys):
    failures = []
    for argv in cli_corpus(tmp_path):
        try:
            code = main(argv)
        except SystemExit as exc:          # argparse's own refusals
            code = exc.code
        out, err = capsys.readouterr()
        if code != 2 or not err.startswith("error:") or "Traceback" in err:
            failures.append((argv[:6], code, err[:120], out[:80]))
    assert not failures, f"{len(failures)} bad inputs were not refused cleanly: {failures[:5]}"


def test_a_theta_on_the_edge_gives_valid_json_with_nulls_and_a_warning(capsys):
    code = main(["trace", "--model", "linkage", "--theta0", '{"theta": 0}', "--iterations", "1", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and "written as null" in err
    data = json.loads(out)                    # strict JSON: NaN or Infinity would not parse here
    assert data["states"][0]["loglik"] is None
    assert "NaN" not in out and "Infinity" not in out


API_CASES = [
    lambda: make_model("nope"),
    lambda: make_model("gmm1d", K=0),
    lambda: make_model("gmm1d", K="x"),
    lambda: make_model("gmm1d", data="nope"),
    lambda: make_model("gmm1d", data="galaxies", synthetic={"n": 5, "seed": 0}),
    lambda: make_model("gmm1d").with_data(np.array([1.0, np.nan, 2.0, 3.0])),
    lambda: make_model("gmm1d").with_data(np.array([1.0, 1.0, 1.0, 1.0])),
    lambda: make_model("gmm1d").with_data(np.array([1.0, 2.0])),
    lambda: make_model("gmm2d").with_data(np.zeros((10, 3))),
    lambda: make_model("censored").with_data(np.array([[1.0, 2.0], [2.0, 1.0]])),
    lambda: make_model("censored").with_data(np.array([[-1.0, 1.0], [2.0, 1.0]])),
    lambda: make_model("hmm").with_data(np.array([1.0])),
    lambda: make_model("mvn-missing").with_data(np.array([[1.0, 2.0], [np.nan, np.nan], [2.0, 1.0], [3.0, 5.0]])),
    lambda: make_model("student-t").with_data(np.array([1.0, 2.0])),
    lambda: Session(make_model("linkage"), {"theta": 2.0}),
    lambda: Session(make_model("linkage"), {"theta": np.nan}),
    lambda: Session(make_model("linkage"), {"nope": 1.0}),
    lambda: Session(make_model("gmm1d"), {"means": [1.0]}),
    lambda: Session(make_model("gmm1d"), {"weights": [0.7, 0.7]}),
    lambda: Session(make_model("gmm1d"), {"variances": [1.0, -1.0]}),
    lambda: Session(make_model("gmm2d"), {"covariances": [[[1, 2], [2, 1]], [[1, 0], [0, 1]]]}),
    lambda: Session(make_model("linkage"), family="nope"),
    lambda: Session(make_model("linkage"), family="hard"),
    lambda: Session(make_model("linkage"), schedule="incremental:5"),
    lambda: Session(make_model("gmm1d"), frozen={"nope"}),
    lambda: Session(make_model("linkage")).run(tol=float("nan")),
    lambda: Session(make_model("linkage")).run(max_iterations=0),
]


@pytest.mark.parametrize("case", range(len(API_CASES)))
def test_every_bad_api_input_raises_explorer_error(case):
    with pytest.raises(ExplorerError):
        API_CASES[case]()


UPLOADS = [
    ("gmm1d", "empty.csv", b""),
    ("gmm1d", "header.csv", b"x\n"),
    ("gmm1d", "text.csv", b"x\n1\nabc\n2\n3\n"),
    ("gmm1d", "inf.csv", b"x\n1\ninf\n2\n3\n"),
    ("gmm1d", "huge.csv", b"x\n1\n1e308\n2\n-1e308\n"),
    ("gmm1d", "two-columns.csv", b"x,y\n1,2\n3,4\n5,6\n7,8\n"),
    ("gmm1d", "binary.csv", b"\xff\xfe\x00\x01"),
    ("gmm1d", "unclosed.csv", b'x\n"' + b"1" * 200_000 + b"\n"),
    ("gmm2d", "collinear-short.csv", b"x,y\n1,1\n"),
    ("gmm2d", "empty-cell.csv", b"x,y\n1,\n2,3\n4,5\n6,7\n"),
    ("censored", "flag.csv", b"time,observed\n1,1\n2,2\n3,0\n"),
    ("censored", "negative.csv", b"time,observed\n1,1\n-2,1\n3,0\n"),
    ("censored", "columns.csv", b"t,o\n1,1\n2,1\n"),
    ("hmm", "one.csv", b"x\n70\n"),
    ("mvn-missing", "all-missing-row.csv", b"a,b\n1,2\n,\n3,4\n5,7\n"),
    ("student-t", "short.csv", b"x\n1\n2\n"),
]


@pytest.mark.parametrize("model, filename, content", UPLOADS)
def test_every_bad_upload_gets_a_message_and_leaves_the_session_as_it_was(model, filename, content):
    state = ExplorerState(model_name=model)
    state.e_step()
    before = (state.session, state.session.current, state.model)
    state.upload(filename, content)
    assert state.message, "no message for a bad upload"
    assert "Traceback" not in state.message
    assert (state.session, state.session.current, state.model) == before
