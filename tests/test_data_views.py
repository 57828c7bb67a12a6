"""The data pictures: what they draw of data too many to draw point by point, and how a kind
of picture is registered and found."""
import numpy as np
import pytest

from explorer.models import MODELS
from explorer.views.data import data_view_for


def test_a_sampled_scatter_draws_every_point_as_a_density_under_the_sample():
    model = MODELS["gmm2d"](MODELS["gmm2d"].synthetic(20_000, 0))
    view = data_view_for(model)
    assert len(view.points.data["x"]) == 2000 and view.density.data["image"][0].sum() == 20_000
    assert view.figure.title.text == "20000 points (grey), 2000 by q"
    small = data_view_for(MODELS["gmm2d"](MODELS["gmm2d"].load_dataset("faithful")))
    assert small.density is None and small.figure.title.text == "272 points by q, 1σ, 2σ"


def test_a_new_picture_kind_registers_itself_and_a_model_that_declares_it_gets_it():
    from explorer.views import registry
    from explorer.views.base import new_figure

    @registry.data_view("test-dots")
    class Dots:
        def __init__(self, model):
            self.model, self.figure = model, new_figure("dots", "x", "y")

        def update(self, state):
            pass

    try:
        class Dotted(MODELS["gmm1d"]):
            data_view = "test-dots"
        model = Dotted(MODELS["gmm1d"].load_dataset("galaxies"))
        assert type(data_view_for(model)) is Dots
        with pytest.raises(ValueError, match="two builders for the data picture 'histogram'"):
            registry.data_view("histogram")(Dots)
    finally:
        registry.DATA_VIEWS.pop("test-dots", None)


def test_an_unknown_picture_kind_is_named_with_the_kinds_there_are():
    class Nowhere(MODELS["gmm1d"]):
        data_view = "nowhere"
    with pytest.raises(ValueError, match="declares data_view 'nowhere'; kinds: .*histogram.*sketch"):
        data_view_for(Nowhere(MODELS["gmm1d"].load_dataset("galaxies")))


def test_the_generic_pictures_hold_no_code_for_a_particular_model():
    from pathlib import Path
    views = Path(__file__).resolve().parents[1] / "explorer" / "views"
    for name in ("data.py", "registry.py", "pictures/sketch.py"):
        text = (views / name).read_text()
        named = [model for model in MODELS if f'"{model}"' in text or f"'{model}'" in text]
        assert not named, f"views/{name} names models {named}"


def test_a_sketch_layer_of_an_unknown_kind_is_refused_with_the_kinds():
    from explorer.core.sketch import Layer
    with pytest.raises(ValueError, match="kind 'blobs'; kinds: points, lines, images, bars"):
        Layer("blobs", "b")


def test_a_scatter_of_twelve_components_draws_its_points():
    """K = 12 (the slider's and the URL's most) on gmm2d: q's colours mixed from a 10-colour
    palette raised a matmul shape error, and a link with K=12 could not be opened."""
    from explorer.models import make_model
    from explorer.core.session import Session
    from explorer.views.base import PALETTE, blend
    from explorer.views.data import data_view_for
    model = make_model("gmm2d", K=12)
    view = data_view_for(model)
    view.update(Session(model, seed=0).current)
    q = np.eye(12)[:, [0, 11]]
    colors = blend(q)
    first, last = (tuple(int(PALETTE[k % len(PALETTE)][i:i + 2], 16) for i in (1, 3, 5)) for k in (0, 11))
    assert tuple(colors[0, :3]) == first and tuple(colors[1, :3]) == last
