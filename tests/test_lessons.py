"""Lessons are data: the built-in one loads and plays, and a malformed file is refused with the
step and the field named."""
import json

import pytest

from explorer.app import ExplorerState
from explorer.core.errors import ExplorerError
from explorer.lessons import available_lessons, load_lesson, parse_lesson


def test_the_built_in_lesson_has_the_eight_steps_of_the_argument():
    assert "variational-em" in available_lessons()
    lesson = load_lesson("variational-em")
    assert len(lesson.steps) == 8
    models = [step.screen.get("model") for step in lesson.steps]
    assert models[:5] == ["linkage"] * 5 and models[5] == "gmm1d" and models[7] == "two-source"
    for step in lesson.steps:
        sentences = [s for s in step.caption.replace("?", ".").split(". ") if s.strip()]
        assert 2 <= len(sentences) <= 4, step.title


def test_every_step_sets_up_its_screen_without_a_note():
    state = ExplorerState()
    assert state.player.open_lesson("variational-em")
    seen = []
    for number in range(8):
        assert state.lesson_step == number and not state.message and not state.notes, (number, state.notes)
        seen.append((state.model_name, state.family, state.schedule, state.session.position,
                     round(state.session.current.kl, 6)))
        state.player.lesson_next()
    assert seen[2][4] == 0 and seen[3][4] > 0          # the E step closes the gap, the M step opens it
    assert seen[6][2] == "incremental" and seen[7][1] == "mean-field" and seen[7][4] > 0.1
    state.e_step()                                       # the user's own step, then Back and Next again
    state.player.lesson_back()
    state.player.lesson_next()
    assert state.session.position == seen[7][3]


def test_a_lesson_link_opens_its_step_and_the_url_keeps_it():
    state = ExplorerState(query={"lesson": "variational-em", "ls": "3"})
    assert state.lesson_step == 2 and state.session.position == 1
    query = state.links.query()
    assert query["lesson"] == "variational-em" and query["ls"] == "3"
    again = ExplorerState(query=query)
    assert again.lesson_step == 2 and again.session.current.loglik == state.session.current.loglik
    bad = ExplorerState(query={"lesson": "nope"})
    assert bad.player.lesson is None and any("not a lesson" in note for note in bad.notes)


@pytest.mark.parametrize("data, message", [
    ([], "must be an object"),
    ({"title": "x", "steps": []}, "non-empty list"),
    ({"title": "x", "steps": [{"caption": "c", "screen": {}}]}, "step 1: the field 'title' is missing"),
    ({"title": "x", "steps": [{"title": "t", "caption": "c", "screen": {}},
                              {"title": "t", "caption": 3, "screen": {}}]}, "step 2: the field 'caption' must be str"),
    ({"title": "x", "steps": [{"title": "t", "caption": "c", "screen": {}, "colour": "red"}]},
     "step 1: unknown field 'colour'"),
    ({"title": "x", "steps": [{"title": "t", "caption": "c", "screen": {"modle": "linkage"}}]},
     "step 1: screen has an unknown key 'modle'"),
    ({"title": "x", "steps": [{"title": "t", "caption": "c", "screen": {"steps": ["E"]}}]},
     "step 1: screen value of 'steps' must be text"),
])
def test_a_malformed_lesson_names_the_step_and_field(data, message):
    with pytest.raises(ExplorerError, match=message):
        parse_lesson("mine", data)


def test_a_teachers_lesson_file_is_read_from_its_path(tmp_path):
    path = tmp_path / "coins.json"
    path.write_text(json.dumps({"title": "Two coins", "steps": [
        {"title": "Start", "caption": "Five sets of tosses. Which coin made each?", "screen": {"model": "coins"}},
        {"title": "One iteration", "caption": "The E step weighs each set. The M step re-estimates.",
         "screen": {"model": "coins", "steps": "EM"}}]}))
    lesson = load_lesson(str(path))
    assert lesson.title == "Two coins" and len(lesson.steps) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    with pytest.raises(ExplorerError, match="lesson bad: not valid JSON"):
        load_lesson(str(bad))


def test_a_teachers_folder_of_lessons_is_offered_in_the_app(tmp_path, monkeypatch):
    from explorer import lessons
    monkeypatch.setattr(lessons, "LESSON_DIRS", [])
    (tmp_path / "coins-intro.json").write_text(json.dumps({"title": "Two coins", "steps": [
        {"title": "Start", "caption": "Five sets of tosses. Which coin made each?", "screen": {"model": "coins"}}]}))
    lessons.add_lesson_dir(tmp_path)
    state = ExplorerState(query={"lesson": "coins-intro"})
    assert "coins-intro" in state.param.lesson_name.objects
    assert state.player.lesson.title == "Two coins" and state.model_name == "coins"
    with pytest.raises(ExplorerError, match="is not a folder"):
        lessons.add_lesson_dir(tmp_path / "nope")


def plain_and_viewed(plain_query: dict, viewed_query: dict):
    """Two states opened from a link without and with view settings; they show the same session."""
    from explorer.app import ExplorerState
    plain, viewed = ExplorerState(), ExplorerState()
    plain.links.apply(plain_query)
    viewed.links.apply(viewed_query)
    assert viewed.model_name == plain.model_name
    assert [s.loglik for s in viewed.session.history] == [s.loglik for s in plain.session.history]
    return plain, viewed


@pytest.mark.parametrize("link", [{"lesson": "variational-em", "ls": "8", "scale": "200"},
                                  {"lesson": "variational-em", "ls": "6", "presenter": "1"},
                                  {"lesson": "variational-em", "ls": "3", "svg": "1"}])
def test_a_lesson_link_with_view_settings_opens_its_step_at_that_view(link):
    """A teacher's link at projector scale: the step's own screen (as its plain link opens it),
    drawn at the scale asked for. Before, the view key made the link a copied screen: step 8's
    caption over the linkage model at state 0, and no note."""
    plain, viewed = plain_and_viewed({k: link[k] for k in ("lesson", "ls")}, link)
    assert viewed.family == plain.family
    assert viewed.lesson_name == "variational-em" and viewed.lesson_step == int(link["ls"]) - 1
    assert (viewed.scale, viewed.presenter) == (int(link.get("scale", 100)), link.get("presenter") == "1")
    assert viewed.svg == (link.get("svg") == "1")
    assert {k: v for k, v in viewed.links.query().items() if k in link} == link     # and its URL keeps them


@pytest.mark.parametrize("name", ["dlr-table-1", "bishop-9-14"])
def test_a_preset_link_with_a_scale_opens_the_preset(name):
    plain, viewed = plain_and_viewed({"preset": name}, {"scale": "200", "preset": name})
    assert viewed.preset_name == name and viewed.player.preset_rows == plain.player.preset_rows
    assert viewed.model_name == plain.model_name and viewed.scale == 200
    assert [s.loglik for s in viewed.session.history] == [s.loglik for s in plain.session.history]


def test_one_lesson_next_or_preset_is_one_redraw():
    """A lesson's Next sets a model, resets and replays its steps; the viewers redraw (and the
    picture is computed) once per `revision`, so it goes up once, not once per part (4 to 8
    before, each refreshing every viewer)."""
    from explorer.presets import PRESETS
    state = ExplorerState()
    assert state.player.open_lesson("variational-em")
    events = []
    state.param.watch(lambda e: events.append(e.new), "revision")
    for number in range(1, 8):
        events.clear()
        assert state.player.lesson_next()
        assert state.lesson_step == number and len(events) == 1, (number, events)
    name = next(iter(PRESETS))
    events.clear()
    assert state.player.open_preset(name) and len(events) == 1, events
