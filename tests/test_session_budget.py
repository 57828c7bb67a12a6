"""A session's budget (README, "A session's budget") and the bound on large sessions."""
import subprocess
import sys

import pytest

from explorer.app import budget as app_budget
from explorer.core.errors import ExplorerError
from explorer.app.budget import LARGE_POINTS, MAX_POINTS, REPLAY_WORK, LargeSessions, heavy_link, replay_limit
from explorer.app.state import ExplorerState
from explorer.screen import MAX_STEPS, count_steps, decode_steps


def test_a_link_replays_at_most_the_budget_and_says_so():
    state = ExplorerState(query={"model": "gmm1d", "steps": "EM49999"})       # Old Faithful: 272 points
    assert len(state.session.history) - 1 == MAX_STEPS == replay_limit(272)
    assert state.notes == ["steps: the link asks for 99,998 half steps; a session replays at most 20,000 on 272 "
                           "data points (the session's budget), so the first 20,000 were taken"]
    assert replay_limit(MAX_POINTS) == REPLAY_WORK // MAX_POINTS == 100


def test_steps_are_read_in_linear_time():
    """The old pattern ((M+|EM*)\\d*)* backtracked exponentially: 'M' * 40 + 'X' ran for hours
    (24 Ms: 2 s). Run apart, so a regression fails here instead of hanging the suite."""
    code = "from explorer.screen import count_steps\ntry:\n    count_steps('M' * 40 + 'X')\nexcept Exception:\n    pass"
    subprocess.run([sys.executable, "-c", code], timeout=60, check=True)
    assert count_steps("EM12E") == 25 and decode_steps("EM12E", 5) == ["E", "M", "E", "M", "E"]
    assert decode_steps("MMEM2") == ["M", "M", "E", "M", "E", "M"]


def test_synthetic_data_past_the_budget_are_refused_in_words():
    state = ExplorerState(model_name="gmm1d")
    assert not state.set(dataset="synthetic", n_points=MAX_POINTS + 1)
    assert state.n_points == 300 and state.message == (
        "The value 200,001 was not used (the session is unchanged): Synthetic N is from 10 to 200,000")
    with pytest.raises(ExplorerError, match="Synthetic N is from 10 to 200,000"):      # Python's callers too
        ExplorerState(model_name="gmm1d", dataset="synthetic", n_points=10**6)
    link = ExplorerState(query={"model": "gmm1d", "data": "synthetic", "n": str(10**6)})
    assert link.notes == ["n='1000000' (ignored): Synthetic N is from 10 to 200,000"]


def test_an_upload_past_the_budget_is_refused():
    state = ExplorerState(model_name="gmm1d")
    rows = "\n".join(str(i % 97) for i in range(MAX_POINTS + 1))
    assert not state.upload("big.csv", f"x\n{rows}".encode())
    assert f"{MAX_POINTS + 1:,} rows is more than the {MAX_POINTS:,} a session holds" in state.message
    assert state.dataset != "uploaded CSV"


def test_the_server_holds_a_bounded_number_of_large_sessions(monkeypatch):
    monkeypatch.setattr(app_budget, "LARGE_SESSIONS", LargeSessions(limit=1))
    first = ExplorerState(model_name="gmm1d", dataset="synthetic", n_points=LARGE_POINTS + 1)
    second = ExplorerState(model_name="gmm1d")
    assert not second.set(dataset="synthetic", n_points=LARGE_POINTS + 1)
    assert "the server is busy: it holds 1 sessions with more than 50,000 data points" in second.message
    assert second.dataset != "synthetic" and len(second.model.data) == 272       # unchanged
    assert second.set(dataset="synthetic", n_points=LARGE_POINTS)                 # not large: admitted
    first.set(n_points=1000)                                                      # the first lets go
    assert second.set(n_points=LARGE_POINTS + 1), second.message
    assert len(app_budget.LARGE_SESSIONS) == 1


def test_releasing_a_screen_that_was_never_built_is_harmless():
    """A heavy link that failed while its page closed has no screen (None) to release."""
    sessions = LargeSessions(limit=1)
    sessions.release(None)
    assert len(sessions) == 0


@pytest.mark.parametrize("query, heavy", [
    ({"model": "gmm1d", "steps": "EM5"}, False), ({"steps": "EM101"}, True), ({"steps": "EM99"}, False),
    ({"data": "synthetic", "n": "20000"}, False), ({"data": "synthetic", "n": "20000", "steps": "EM6"}, True),
    ({"data": ["synthetic"], "n": [b"200000"]}, True),
    ({"steps": "M" * 30 + "X"}, False)])
def test_a_heavy_link_is_known_from_its_query(query, heavy):
    assert heavy_link(query) is heavy
