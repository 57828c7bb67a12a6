"""The data view: what it draws of data too many to draw point by point."""
from explorer.models import MODELS
from explorer.views.data import data_view_for


def test_a_sampled_scatter_draws_every_point_as_a_density_under_the_sample():
    model = MODELS["gmm2d"](MODELS["gmm2d"].synthetic(20_000, 0))
    view = data_view_for(model)
    assert len(view.points.data["x"]) == 2000 and view.density.data["image"][0].sum() == 20_000
    assert view.figure.title.text == "20000 points (grey), 2000 by q"
    small = data_view_for(MODELS["gmm2d"](MODELS["gmm2d"].load_dataset("faithful")))
    assert small.density is None and small.figure.title.text == "272 points by q, 1σ, 2σ"
