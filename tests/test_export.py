"""The history as CSV and JSON: the CLI's export and the app's downloads give the session's numbers."""
import csv
import io
import json

import numpy as np
import pytest

from explorer import Session, make_model
from explorer.app import App
from explorer.cli import main
from explorer.export import trace_csv, trace_json


def test_csv_has_a_row_per_state_and_a_column_per_coordinate():
    session = Session(make_model("gmm2d"), seed=0)
    for _ in range(3):
        session.iterate()
    rows = list(csv.DictReader(io.StringIO(trace_csv(session))))
    assert len(rows) == len(session.states) == 7
    assert "covariances[1,0,1]" in rows[0] and "covariances[1,1,0]" not in rows[0]
    for row, state in zip(rows, session.states):
        assert float(row["loglik"]) == state.loglik and row["kind"] == state.kind
        assert float(row["means[1,0]"]) == state.theta["means"][1, 0]
    assert rows[0]["rate"] == ""


def test_export_cli_writes_what_trace_prints(tmp_path, capsys):
    target = tmp_path / "history.json"
    assert main(["export", "--model", "linkage", "--iterations", "3", "--format", "json", "-o", str(target)]) == 0
    written = json.loads(target.read_text())
    assert main(["trace", "--model", "linkage", "--iterations", "3", "--json"]) == 0
    capsys.readouterr()
    session = Session(make_model("linkage"), seed=0)
    for _ in range(3):
        session.iterate()
    assert written == json.loads(json.dumps(trace_json(session)))
    assert main(["export", "--model", "linkage", "--iterations", "1", "-o", str(tmp_path / "no" / "dir.csv")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_the_apps_download_buttons_give_the_current_history():
    app = App("coins")
    app.state.e_step()
    app.state.m_step()
    csv_button, json_button = app.controls.downloads
    rows = list(csv.DictReader(io.StringIO(csv_button.callback().getvalue())))
    assert [r["kind"] for r in rows] == ["init", "E", "M"]
    data = json.loads(json_button.callback().getvalue())
    assert [s["kind"] for s in data["states"]] == ["init", "E", "M"]
    assert data["states"][2]["loglik"] == pytest.approx(app.state.session.current.loglik)
    app.state.undo()
    assert len(list(csv.DictReader(io.StringIO(csv_button.callback().getvalue())))) == 2
