"""The one codec of a screen (explorer.screen): URLs, lessons, presets and the library's
sessions speak it, and a screen read back from its words is the same screen."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from explorer.app.state import ExplorerState
from explorer.core.errors import ExplorerError
from explorer.lessons import available_lessons, load_lesson, parse_lesson
from explorer.presets import PRESETS, Preset
from explorer.screen import SETTINGS, Screen

TEXT = st.text(alphabet="abcxyz_[]0123456789", min_size=1, max_size=8)
VALUES = {bool: st.booleans(), int: st.integers(0, 10**6), float: st.floats(-1e6, 1e6, allow_nan=False),
          str: TEXT, list: st.lists(TEXT, max_size=3)}


@st.composite
def screens(draw):
    named = draw(st.lists(st.sampled_from(SETTINGS), unique=True, max_size=8))
    values = {s.name: draw(VALUES[s.kind]) for s in named}
    steps = draw(st.sampled_from(["", "E", "EM4", "MEM2E"]))
    return Screen(settings=values, steps=steps, at=str(draw(st.integers(0, 5))) if steps else None)


@settings(max_examples=200, deadline=None)
@given(screens())
def test_a_screen_read_back_from_its_words_is_the_same_screen(screen):
    again, notes = Screen.read(screen.query())
    assert notes == []
    assert dict(again.settings) == dict(screen.settings) and (again.steps, again.at) == (screen.steps, screen.at)


def test_a_word_that_cannot_be_read_is_named_and_the_rest_still_make_the_screen():
    screen, notes = Screen.read({"K": "two", "seed": "3", "colour": "red", "zoom": "maybe"})
    assert dict(screen.settings) == {"seed": 3}
    assert notes == ["K='two' (ignored): K takes a whole number", "colour= (ignored): not a setting of the app",
                     "zoom='maybe' (ignored): zoom takes 0 or 1"]


def test_a_lesson_and_a_preset_speak_the_codec_and_name_the_step_of_a_mistake():
    with pytest.raises(ExplorerError, match="step 1: screen has an unknown key 'colour'"):
        parse_lesson("mine", {"title": "t", "steps": [{"title": "a", "caption": "b", "screen": {"colour": "red"}}]})
    with pytest.raises(ExplorerError, match="preset p: screen has an unknown key 'scale'"):   # the viewer's own
        Preset("p", "P", {"model": "linkage", "scale": "200"})
    lesson = parse_lesson("mine", {"title": "t", "steps": [{"title": "a", "caption": "b",
                                                            "screen": {"model": "gmm1d", "K": "two", "seed": 3}}]})
    state = ExplorerState()          # a value that does not fit is noted when shown, as a link's is
    state.player.show_screen(lesson.steps[0].screen)
    assert state.model_name == "gmm1d" and state.seed == 3
    assert state.notes == ["K='two' (ignored): K takes a whole number"]


def authored_screens():
    for name in available_lessons():
        for number, step in enumerate(load_lesson(name).steps):
            yield f"{name}:{number + 1}", step.screen
    for name, preset in PRESETS.items():
        yield name, preset.screen


@pytest.mark.parametrize("where,screen", list(authored_screens()))
def test_the_library_session_of_a_screen_is_the_apps(where, screen):
    """Screen.session() (the CLI's --screen, a notebook) builds what the app shows for the same
    words: the same θ, log p and F at the same state."""
    state = ExplorerState()
    state.player.show_screen(screen)
    assert not state.message, state.message
    library = Screen.read(screen)[0].session()
    ours, theirs = state.session.current, library.current
    assert library.position == state.session.position and library.family == state.session.family
    assert ours.loglik == theirs.loglik and ours.F == theirs.F
    for key, value in ours.theta.items():
        np.testing.assert_array_equal(value, theirs.theta[key])


def test_a_preset_stays_in_the_link_after_steps_with_its_caption_and_table():
    """A reload of a preset's screen a few steps on keeps the preset's caption and table (the
    link lost them, and a reload showed the screen without its published numbers)."""
    state = ExplorerState()
    state.player.open_preset("dlr-table-1")
    state.e_step(), state.m_step()
    query = state.links.query()
    assert query["preset"] == "dlr-table-1"
    again = ExplorerState(query=query)
    assert again.preset_name == "dlr-table-1" and again.player.preset_rows == state.player.preset_rows
    assert again.session.position == state.session.position and again.links.query() == query
    assert again.session.current.loglik == state.session.current.loglik


def cli_states(capsys, *argv):
    from explorer.cli import main
    import json
    code = main(["export", *argv, "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)["states"]


@pytest.mark.parametrize("link", ["model=gmm1d&K=3&seed=4&steps=EM3E",
                                  "http://127.0.0.1:5006/explorer?lesson=variational-em&ls=8",
                                  "?preset=dlr-table-1"])
def test_the_cli_exports_the_screen_of_a_link_as_the_app_shows_it(capsys, link):
    """`export --screen LINK`: the states the app shows for that link, to the last digit (the
    lesson step's and the preset's own screen when the link names one)."""
    from urllib.parse import parse_qs, urlsplit
    state = ExplorerState(query=parse_qs(urlsplit(link).query if "?" in link else link))
    assert not state.message, state.message
    states = cli_states(capsys, "--screen", link, "--iterations", "0")
    shown = state.session.states
    assert [s["loglik"] for s in states] == [float(s.loglik) for s in shown] and len(shown) > 1


def test_the_cli_refuses_a_link_it_cannot_read_and_a_screen_beside_a_model(capsys):
    from explorer.cli import main
    assert main(["export", "--screen", "model=gmm1d&K=two", "--iterations", "1"]) == 2
    assert "K='two' (ignored): K takes a whole number" in capsys.readouterr().err
    assert main(["export", "--screen", "model=gmm1d", "--model", "gmm1d", "--iterations", "1"]) == 2
    assert "give --screen or --model, not both" in capsys.readouterr().err
    assert main(["export", "--iterations", "1"]) == 2
    assert "--model is required (or --screen LINK)" in capsys.readouterr().err


def test_a_standalone_page_links_back_to_its_screen_in_the_app(tmp_path, capsys):
    """The page `export --screen LINK --format html` writes names the link that opens the run in
    the app: the screen's words with the half steps the export took, without the viewer's room."""
    import html
    import re
    from explorer.cli import main
    out = tmp_path / "run.html"
    assert main(["export", "--screen", "model=gmm1d&K=3&scale=200&steps=EM2", "--iterations", "1",
                 "--format", "html", "-o", str(out)]) == 0, capsys.readouterr().err
    page = html.unescape(out.read_text())          # the page's document is HTML-escaped inside its script
    link = html.unescape(re.search(r"In the app: <code>\?([^<]*)</code>", page).group(1))
    screen, notes = Screen.read(dict(part.split("=", 1) for part in link.split("&")))
    assert notes == [] and screen.steps == "EM3" and screen.at == "6"
    assert dict(screen.settings) == {"model_name": "gmm1d", "option": 3}
