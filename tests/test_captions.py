"""What a caption points at is on screen: the M step's target (the bound plot's triangle) lies
inside the zoomed window of the screens whose captions talk about it, and the landscape's title
never calls a constrained family's picture exact."""
import numpy as np
import pytest

from explorer import Session, make_model
from explorer.app import ExplorerState
from explorer.core.families import FAMILIES
from explorer.core.model import get_coordinate
from explorer.core.picture import landscape_calculator, picture


def test_the_bishop_preset_shows_where_its_m_step_goes():
    # "its maximum, the triangle, is where the M step goes": the window was 0.36…0.44 and the
    # triangle sat clipped on its right edge, while the M step goes to about 0.6
    state = ExplorerState(query={"preset": "bishop-9-14"})
    drawn = state.drawing.picture()
    theta = float(state.session.current.theta["theta"])
    goes_to = float(state.session.m_step().theta["theta"])
    assert goes_to > 0.55                                   # far outside the old window
    lo, hi = drawn.window
    assert lo < theta < hi and lo < goes_to < hi
    assert drawn.bound.m_target == pytest.approx(goes_to, abs=1e-7)
    # drawn, not on the edge: some room on each side of it
    assert hi - goes_to > 0.05 * (hi - lo)


@pytest.mark.parametrize("step", [0, 1, 2, 3])
def test_the_first_lesson_steps_show_their_m_target(step):
    state = ExplorerState()
    assert state.player.open_lesson("variational-em", step)
    drawn = state.drawing.picture()
    session = state.session
    # the maximiser of F(·, q) along θ, found here on a fine grid over (0, 1)
    model, q = session.model, session.current.q
    grid = np.linspace(0.001, 0.999, 20001)
    values = [model.expected_complete_loglik({"theta": np.float64(t)}, q) for t in grid]
    best = grid[int(np.argmax(values))]
    lo, hi = drawn.window
    assert lo < best < hi, (step, best, drawn.window)
    assert drawn.bound.m_target == pytest.approx(best, abs=1e-3)
    assert lo <= get_coordinate(session.current.theta, "theta") <= hi


def lesson_screens():
    from explorer.lessons import available_lessons, load_lesson
    for name in available_lessons():
        for number, step in enumerate(load_lesson(name).steps):
            yield name, number, step


@pytest.mark.parametrize("name,number,step", [pytest.param(*s, id=f"{s[0]}-{s[1] + 1}") for s in lesson_screens()])
def test_a_caption_says_converged_only_on_a_converged_screen(name, number, step):
    # step 6 said "EM converges to the fixed point" over ten iterations whose log p still rose
    # by 0.09 per iteration (it reaches its fixed point 61 iterations later)
    import re
    claims = re.search(r"\b(converges|converged|has converged|at (its|the) fixed point)\b", step.caption)
    state = ExplorerState()
    assert state.player.open_lesson(name, number)
    session = state.session
    before = session.current.loglik
    session.iterate()
    settled = abs(session.current.loglik - before) <= 1e-6 * max(1.0, abs(before))
    if claims:
        assert settled, (name, number + 1, claims.group(0), session.current.loglik - before)


def test_the_landscape_is_called_exact_only_for_a_family_that_closes_the_gap():
    # lesson step 8 (two-source, θ's one free coordinate, a mean-field q) was titled
    # "θ–q landscape (exact)": the picture is whole, but the q on its φ axis is no posterior
    model = make_model("two-source")
    for family, gap_closes in (("exact", True), ("mean-field", False), ("mean-field-1", False)):
        session = Session(model, seed=1, family=family)
        session.iterate()
        drawn = picture(session, "noise_var", landscape_calculator(model, family, 12))
        assert drawn.n_free == 1 and drawn.exact          # the whole picture: one free coordinate
        assert FAMILIES[family].closes_gap is gap_closes
        assert ("(exact)" in drawn.landscape_title) is gap_closes, drawn.landscape_title
        assert gap_closes or FAMILIES[family].short in drawn.landscape_title
    gmm = make_model("gmm1d")
    session = Session(gmm, seed=1, family="hard")
    session.iterate()
    drawn = picture(session, "means[0]", landscape_calculator(gmm, session.family_object, 12))
    assert drawn.n_free > 1 and "exact" not in drawn.landscape_title
    assert drawn.landscape_title == f"θ–q landscape (Q′ slice, {drawn.n_free} free)"


def test_the_lessons_mean_field_step_has_no_exact_landscape():
    from explorer.views import LandscapeView
    state = ExplorerState()
    assert state.player.open_lesson("variational-em", 7)
    assert state.family == "mean-field"
    view = LandscapeView()
    view.update(state.drawing.picture(), {})
    assert "exact" not in view.figure.title.text and "mean field" in view.figure.title.text


def test_every_landscape_title_fits_a_third_of_a_1366_px_screen():
    # the title starts at the frame's left edge, about 270 px from the plot's right at 1366×768
    # (14 px DejaVu Sans bold: about 7.7 px a character); "θ–q landscape (mean-field-1, 52 free)"
    # was cut
    from explorer.core.landscape import free_coordinate_count
    from explorer.models import MODELS
    for name in sorted(MODELS):
        model = make_model(name)
        n_free = free_coordinate_count(model, frozenset())
        for family in FAMILIES.values():
            if family.supports(model):
                title = picture_title(family, n_free)
                assert len(title) <= 34, (name, title)
                assert ("exact" in title) == (family.closes_gap and n_free <= 1), (name, title)


def picture_title(family, n_free):
    """The title a Picture of this family and free count gets (only those two fields are read)."""
    from types import SimpleNamespace

    from explorer.core.picture import Picture
    stand_in = SimpleNamespace(family=family, n_free=n_free, landscape=SimpleNamespace(exact=n_free <= 1))
    return Picture.landscape_title.fget(stand_in)


def test_an_m_step_under_a_constrained_family_gives_the_gap_its_own_sentence():
    """Lesson step 8's M step read "part of it is the family's own gap (q(zᵢ) must factorise …,
    but …), part that q was fitted to the old θ": a sentence inside a parenthesis inside a clause."""
    from explorer import text
    from explorer.app.state import ExplorerState
    from explorer.lessons import load_lesson
    lesson = load_lesson("variational-em")
    state = ExplorerState()
    state.player.open_lesson("variational-em", len(lesson.steps) - 1)
    family = state.family_object
    state.e_step(), state.m_step()
    sentence = text.step_sentence(state.previous_state, state.session.current, family)
    assert not family.closes_gap and "(" + family.why_gap not in sentence
    assert sentence.endswith(f"The family's gap: {family.why_gap}.")
