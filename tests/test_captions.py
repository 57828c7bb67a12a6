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
    drawn = state.picture()
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
    assert state.open_lesson("variational-em", step)
    drawn = state.picture()
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
