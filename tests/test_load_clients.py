"""benchmarks/load.py's two kinds of client see the same class: a few sessions of each click
against a served app, and each one's final numbers panel equals the same clicks replayed
in-process (the benchmark's own `differ` check), with no click lost."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("clients", ["documents", "messages"])
def test_a_small_class_clicks_and_every_session_shows_the_replayed_state(clients):
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load.py"), "--sessions", "3", "--procs", "1",
                          "--duration", "2", "--interval", "0.5", "--workers", "1", "--clients", clients],
                         capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    names = ["procs", "sessions", "connected", "connect", "clicks", "rate", "p50", "p95", "max", "errors",
             "differ", "cpu", "cores", "busiest", "prepared"]            # the columns of its table's row
    values = dict(zip(names, run.stdout.strip().splitlines()[-1].split(), strict=True))
    assert values["connected"] == "3"
    assert int(values["clicks"]) >= 3 * 3                  # 2 s of a click every 0.5 s each
    assert values["errors"] == "0" and values["differ"] == "0"
