"""Messages in the user's words: the setting's label and range, the data's columns; never an
internal class or parameter name. Typed values out of range are refused visibly."""
import io
import re

import numpy as np
import pytest

from explorer.app import App
from explorer.app.state import ExplorerState

INTERNAL = re.compile(r"ExplorerState|Selector parameter|Integer parameter|Number parameter|parameter '")


@pytest.mark.parametrize("query", [
    {"family": "bogus"}, {"model": "gmm1d", "K": "99"}, {"seed": "-1"}, {"order": "sideways"},
    {"x": "time"}, {"eta": "1e308"}, {"grid": "3"}, {"zoom": "maybe"}, {"model": "gmm1d", "family": "mean-field"},
    {"coord": "bogus"}, {"model": "gmm1d", "coord": "means[7]"}, {"schedule": "bogus"}, {"speed": "99"}])
def test_url_notes_name_the_setting_not_the_code(query):
    state = ExplorerState(query=query)
    assert state.notes and all("(ignored)" in n for n in state.notes), state.notes
    assert not any(INTERNAL.search(n) for n in state.notes), state.notes
    assert not state.message


def test_a_family_that_does_not_exist_lists_the_families():
    state = ExplorerState(query={"family": "bogus"})
    assert state.notes == ["family='bogus' (ignored): 'bogus' is not a choice of Family of q "
                           "(choices: exact, hard, mean-field, mean-field-1)"]
    other = ExplorerState(query={"family": "hard"})       # exists, not for linkage
    assert other.family == "exact" and "its families: exact; not for it: hard" in other.notes[0]


@pytest.mark.parametrize("widget, value, words", [
    (lambda c: c.step_size, 1e308, "Gradient step size η is from 1e-06 to 100"),
    (lambda c: c.step_size, -1.0, "Gradient step size η is from 1e-06 to 100"),
    (lambda c: c.blocks[0], 0, "Incremental block size B is from 1 to 272"),
    (lambda c: c.blocks[0], 99_999_999, "Incremental block size B is from 1 to 272"),
    (lambda c: c.synthetic[0], 0, "Synthetic N is from 10 to 200,000"),
    (lambda c: c.synthetic[0], -5, "Synthetic N is from 10 to 200,000"),
])
def test_a_typed_value_out_of_range_is_refused_and_the_box_set_back(widget, value, words):
    app = App("gmm1d")
    box = widget(app.controls)
    before = box.value
    box.value = value
    assert box.value == before and words in app.state.message and "was not used" in app.state.message
    assert not INTERNAL.search(app.state.message)


def test_a_typed_seed_below_zero_is_refused():
    """The box goes back to the seed it held (5), not to the range's end (0), and says why."""
    app = App("gmm1d")
    seed = app.controls.__panel__().select(lambda w: getattr(w, "name", "") .startswith("Initial θ seed"))[0]
    seed.value = 5
    assert app.state.seed == 5 and not app.state.message
    seed.value = -1
    assert seed.value == 5 and app.state.seed == 5
    assert app.state.message.endswith("Initial θ seed is from 0 to 2,147,483,647")


def test_collinear_columns_are_named_as_such():
    state = ExplorerState(model_name="gmm2d")
    rows = "\n".join(f"{i},{2 * i + 1}" for i in range(50))
    assert not state.upload("line.csv", f"x,y\n{rows}".encode())
    assert "the data's two columns are collinear" in state.message
    assert "covariance of the data is singular" in state.message and "positive definite" not in state.message


def test_a_npy_upload_is_read_as_the_cli_reads_it(tmp_path):
    data = np.random.default_rng(3).normal(size=(40, 2)) * [1.0, 3.0]
    buffer = io.BytesIO()
    np.save(buffer, data)
    state = ExplorerState(model_name="gmm2d")
    assert state.upload("points.npy", buffer.getvalue()), state.message
    assert state.dataset == "uploaded CSV" and np.array_equal(state.model.data, data)
    path = tmp_path / "points.npy"
    np.save(path, data)
    from explorer.datasets import read_table
    assert np.array_equal(read_table(path)[1], state.model.data)              # the CLI's reading
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert not state.upload("evil.npy", pickled.getvalue())
    assert "evil.npy: not a readable .npy array" in state.message
