"""explorer.plots: HoloViews elements whose data are the session's own numbers."""
import holoviews as hv
import numpy as np
import pytest

from explorer import Session, make_model, plots
from explorer.core.families import get_family
from explorer.core.landscape import LandscapeCalculator
from explorer.core.picture import picture


@pytest.fixture
def session():
    s = Session(make_model("linkage"), {"theta": 0.5})
    for _ in range(3):
        s.iterate()
    return s


def test_trace_curves_are_the_states_numbers(session):
    overlay = plots.trace(session)
    logp, f, kl = overlay.values()
    assert list(logp.dimension_values(1)) == [s.loglik for s in session.states]
    assert list(f.dimension_values(1)) == [s.F for s in session.states]
    np.testing.assert_allclose(kl.dimension_values(1), [s.kl for s in session.states])


def test_bound_and_landscape_are_the_apps_picture(session):
    drawn = picture(session, "theta", LandscapeCalculator(session.model, get_family("exact"), 60))
    gap, logp, f, now = plots.bound(session, "theta", grid=60).values()
    np.testing.assert_allclose(logp.dimension_values(1), drawn.bound.loglik)
    np.testing.assert_allclose(f.dimension_values(1), drawn.bound.F)
    assert now.data == pytest.approx(float(session.current.theta["theta"]))
    image, path, points = plots.landscape(session, "theta", grid=60).values()
    np.testing.assert_allclose(np.sort(np.unique(image.dimension_values(0))), drawn.landscape.grid)
    np.testing.assert_allclose(points.dimension_values(0), drawn.path.t)
    np.testing.assert_allclose(points.dimension_values(1), drawn.path.phi)
    # the app's colour range, not the image's raw minimum to maximum
    assert hv.Store.lookup_options("bokeh", image, "plot").kwargs["clim"] == pytest.approx(drawn.colour_range)
    assert drawn.colour_range[0] > drawn.landscape.F.min()


def test_identity_and_data_views(session):
    bars = plots.identity(session)
    s = session.current
    assert list(bars.dimension_values("top")) == pytest.approx([s.F, s.F + s.kl, s.loglik])   # F, KL on it, log p
    assert list(bars.dimension_values("part")) == ["F", "KL", "log p"]
    gmm = Session(make_model("gmm1d", data="galaxies", K=3), seed=0)
    gmm.iterate()
    histogram = plots.data(gmm)
    assert isinstance(histogram, hv.Overlay)
    scatter = Session(make_model("gmm2d"), seed=0)
    scatter.iterate()
    points = plots.data(scatter)
    np.testing.assert_allclose(points.dimension_values(2), scatter.current.q[0])
    assert isinstance(plots.data(session), hv.Bars)


def test_figures_compose_and_save(session, tmp_path):
    hv.extension("bokeh")
    layout = plots.trace(session) + plots.bound(session, "theta") + plots.landscape(session, "theta") + \
        plots.identity(session)
    target = tmp_path / "em.html"
    hv.save(layout, str(target))
    assert target.stat().st_size > 10_000


def test_the_whole_figure_as_png_and_svg_without_a_browser(session, tmp_path):
    pytest.importorskip("matplotlib")
    layout = plots.figure(session)
    assert len(layout) == len(plots.PLOTS) == 6
    kl = layout.values()[plots.PLOTS.index("kl")]
    np.testing.assert_allclose(kl.dimension_values(1), [s.kl for s in session.states])
    plots.save_image(session, tmp_path / "em.png")
    plots.save_image(session, tmp_path / "bound.svg", key="theta", which="bound")
    png = (tmp_path / "em.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "bound.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "Bound along theta" in svg


def test_each_plot_keeps_its_own_y_axis_so_the_bounds_gap_shows(tmp_path):
    """In the saved figure (matplotlib) and in a composed one (Bokeh) the trace and the bound
    are drawn on their own ranges: shared, the bound's few nats were drawn on the trace's range."""
    import holoviews.plotting.mpl  # noqa: F401
    from bokeh.models import Plot
    session = Session(make_model("gmm1d", data="faithful-waiting"), seed=0)
    for _ in range(3):
        session.iterate()
    logp = [s.loglik for s in session.states] + [s.F for s in session.states]
    slice_ = plots._picture(session, "means[0]", 200, True).bound
    along = np.concatenate([slice_.loglik, slice_.F])

    def fits(low_high, values):
        low, high = low_high
        span = max(values) - min(values)
        return min(values) - 0.1 * span <= low <= min(values) and max(values) <= high <= max(values) + 0.1 * span

    assert not fits((min(along), max(along)), logp)         # the two ranges differ here: sharing would show
    axes = {ax.get_title(): ax for ax in hv.render(plots.image_figure(session), backend="matplotlib").axes}
    assert fits(axes["Trace: log p and F"].get_ylim(), logp)
    assert fits(axes["Bound along means[0]"].get_ylim(), along)
    composed = hv.render(plots.trace(session) + plots.bound(session, "means[0]") + plots.identity(session),
                         backend="bokeh")
    ranges = [p.y_range for p in composed.select({"type": Plot})]
    assert len(ranges) == 3 and len({id(r) for r in ranges}) == 3


def test_a_models_own_picture_is_drawn_from_its_sketch():
    digits = Session(make_model("bernoulli-mixture"), seed=4)
    digits.iterate()
    drawn = plots.data(digits)
    images = [e for e in drawn if isinstance(e, hv.Image)]
    assert len(images) == 3
    assert np.allclose(images[2].data, digits.current.theta["prototypes"][2].reshape(8, 8))
    bars = next(e for e in drawn if isinstance(e, hv.Rectangles))
    assert len(bars) == 3 * 60 and max(bars.dimension_values("y1")) == pytest.approx(1.0)
    lines = Session(make_model("regression-mixture"), seed=0)
    lines.iterate()
    curves = [e for e in plots.data(lines) if isinstance(e, hv.Curve)]
    a, b = np.asarray(lines.current.theta["coefficients"]).T
    assert len(curves) == 2 and np.allclose(curves[1].dimension_values(1), a[1] + b[1] * curves[1].dimension_values(0))
