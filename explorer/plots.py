"""HoloViews figures of a session, for notebooks, papers and lecture notes.

Each function returns HoloViews elements built from the same numbers as the app (the session's
states, `core.picture.picture`), so they compose with `+` and `*` and save with `hv.save`:

    import holoviews as hv, explorer
    from explorer import plots
    hv.extension("bokeh")                       # or "matplotlib"
    session = explorer.Session(explorer.make_model("linkage"), {"theta": 0.5})
    for _ in range(3): session.iterate()
    figure = plots.trace(session) + plots.bound(session, "theta") + plots.landscape(session, "theta")
    plots.save_html(figure, "em.html")          # opens offline: Bokeh's JavaScript inside

    trace(session)              log p, F and KL per half step (Curves)
    bound(session, key)         log p(X|θ) and F(θ, q) along one coordinate, the gap between (Area)
    landscape(session, key)     F(θ_t, q_φ) on the θ–q grid, with the path of the states (Image, Path)
    identity(session)           log p = F + KL at the current state (Bars)
    data(session)               the data: a histogram, points in the plane coloured by q, or the
                                model's own picture (a sketch: images, bars, lines, points)
    kl_trace(session)           the KL gap per half step
    figure(session, key)        all of them in one layout (the app's screen, for a paper or slides)
    save_image(session, path)   that figure (or one plot) as PNG or SVG without a browser: the
                                matplotlib backend draws it (`pip install "em-explorer[images]"`)
    save_html(figure, path)     a figure (or a session's) as an HTML page that opens offline

The styles are given for both of HoloViews' backends, Bokeh's and matplotlib's.
"""
from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  registers the Bokeh backend the styles below are written for
import numpy as np

from .core.model import first_coordinate
from .core.picture import landscape_axes, landscape_calculator
from .core.picture import picture as take_picture
from .core.readout import readout
from .export import PLOTS
from .shown import texts_of

LOGP, F, KL = "#9467bd", "#1f77b4", "#d62728"
BOKEH = {"backend": "bokeh"}
# Bokeh's style names that matplotlib's backend spells otherwise
MATPLOTLIB_NAMES = {"line_width": "linewidth", "line_dash": "linestyle", "size": "s", "line_alpha": None}
# Each plot's y axis in nats under a name and label of its own: HoloViews links the axes of a
# layout's plots whose dimensions match, and the bound (a few nats around log p at θ) drawn on the
# trace's range (log p over the whole run) showed no gap.
BOUND_NATS = hv.Dimension("bound_nats", label="log p and F (nats)")
IDENTITY_NATS = hv.Dimension("identity_nats", label="log p, F + KL (nats)")


def styled(element, **style):
    """`element` with `style` (Bokeh's names) for the Bokeh backend, and for matplotlib's when
    it is loaded (names translated, those it has no use for left out)."""
    element = element.opts(**BOKEH, **style)
    if "matplotlib" in hv.Store.renderers:
        mpl = {MATPLOTLIB_NAMES.get(k, k): v for k, v in style.items() if MATPLOTLIB_NAMES.get(k, k)}
        if mpl.get("s") is not None:
            mpl["s"] = mpl["s"] ** 2                   # an area in points², not a diameter
        if "color" in mpl and isinstance(element, (hv.Area, hv.Histogram)):
            mpl["facecolor"] = mpl["color"]           # their default face colour would win over `color`
        if style.get("line_alpha") == 0:
            mpl["edgecolor"] = "none"
        element = element.opts(backend="matplotlib", **mpl)
    return element


def _picture(session, key: str, grid: int, zoom: bool):
    calculator = landscape_calculator(session.model, session.family_object, grid)
    return take_picture(session, key, calculator, zoom=zoom)


def trace(session, with_kl: bool = True) -> hv.Overlay:
    """log p(X|θ), F(θ, q) and KL = log p − F at every state up to the current one (KL on its
    own axis in Bokeh: it is small beside log p)."""
    states = session.states
    steps = [s.index for s in states]

    def curve(values, label, color, axis="nats"):
        return styled(hv.Curve((steps, values), "half step", axis, label=label), color=color)
    logp = curve([s.loglik for s in states], "log p(X|θ)", LOGP)
    f = curve([s.F for s in states], "F(θ, q)", F)
    if not with_kl:
        return styled(logp * f, title="Trace: log p and F")
    kl = curve([s.kl for s in states], "KL(q ‖ p(Z|X,θ))", KL, axis="KL (nats)")
    return styled(logp * f * kl, title="Trace: log p, F and KL").opts(multi_y=True, backend="bokeh")


def kl_trace(session) -> hv.Curve:
    """KL(q ‖ p(Z|X,θ)) = log p − F at every state up to the current one."""
    states = session.states
    return styled(hv.Curve(([s.index for s in states], [s.kl for s in states]), "half step", "KL (nats)",
                           label="KL(q ‖ p(Z|X,θ))"), color=KL, title="The gap: KL per half step")


def bound(session, key: str, grid: int = 200, zoom: bool = True) -> hv.Overlay:
    """Along coordinate `key` (the others held at the current θ): log p(X | θ), the bound
    F(θ, q) of the current q, and the KL gap between them."""
    slice_ = _picture(session, key, grid, zoom).bound
    gap = styled(hv.Area((slice_.grid, slice_.F, slice_.loglik), kdims=[key], vdims=[BOUND_NATS, "log p"],
                         label="KL gap"), color=KL, alpha=0.2, line_alpha=0)
    logp = styled(hv.Curve((slice_.grid, slice_.loglik), key, BOUND_NATS, label="log p(X|θ)"), color=LOGP)
    f = styled(hv.Curve((slice_.grid, slice_.F), key, BOUND_NATS, label="F(θ, q)"), color=F, line_dash="dashed")
    now = styled(hv.VLine(slice_.current), color="gray", line_dash="dotted")
    return styled(gap * logp * f * now, title=f"Bound along {key}")


def landscape(session, key: str, grid: int = 60, zoom: bool = True) -> hv.Overlay:
    """F(θ_t, q_φ) on the grid of θ_j = t (x) and the q of the E step at θ_j = φ (y), with the
    states' path: E steps move up, M steps across (the staircase of coordinate ascent)."""
    drawn = _picture(session, key, grid, zoom)
    g = drawn.landscape.grid
    image = styled(hv.Image((g, g, drawn.landscape.F), list(landscape_axes(key)), "F",
                            label="F(θ_t, q_φ)"), cmap="viridis", colorbar=True,
                   clim=drawn.colour_range)    # the app's colours: F below the range in the lowest one
    path = styled(hv.Path([np.column_stack([drawn.path.t, drawn.path.phi])], label="path"), color="white",
                  line_width=2)
    points = styled(hv.Points((drawn.path.t, drawn.path.phi), label="states"), color="white", size=5)
    return styled(image * path * points, title=drawn.landscape_title)


def identity(session) -> hv.Rectangles:
    """log p = F + KL at the current state (its `core.readout.Readout`): F with KL stacked on it,
    beside log p, as bars that rise from the bottom of an axis around their tops (both are far
    from 0, and the KL part, the gap between them, would be invisible on an axis from 0). The
    title gives KL as the app writes it."""
    r = readout(session)
    finite = np.isfinite([r.F, r.kl, r.loglik]).all()
    pad = max(r.kl, 1e-3 * max(1.0, abs(r.loglik))) if finite else 1.0
    bottom = min(r.F, r.loglik) - 2 * pad if finite else np.nanmin([r.F, r.loglik, 0.0]) - 1.0
    rows = [(0.1, bottom, 0.9, r.F, "F"), (0.1, r.F, 0.9, r.F + r.kl, "KL"), (1.1, bottom, 1.9, r.loglik, "log p")]
    bars = hv.Rectangles(rows, ["x", IDENTITY_NATS, "x1", "top"], ["part"])
    return styled(bars, title=f"log p = F + KL (KL = {texts_of(r).kl})",
                  color=hv.dim("part").categorize({"F": F, "KL": KL, "log p": LOGP}),
                  xticks=[(0.5, "F + KL"), (1.5, "log p")], xlabel="", ylim=(bottom, max(r.F + r.kl, r.loglik) + pad))


def data(session, bins: int = 30):
    """The data as the app's data view would draw it (`views.data.view_kind`): values on a line
    as a histogram (with the model's density where it has `component_density`), points in the
    plane coloured by q's first class; other models get θ's coordinates as bars."""
    from .views.data import view_kind
    model, state = session.model, session.current
    kind = view_kind(model)
    x = np.asarray(model.data)
    if kind == "histogram":
        x = x.reshape(-1)
        counts, edges = np.histogram(x, bins=bins, density=True)
        out = styled(hv.Histogram((edges, counts), kdims=["x"], vdims=["density"]), color="#bbbbbb",
                     title=f"{len(x)} points")
        if hasattr(model, "component_density"):
            grid = np.linspace(x.min(), x.max(), 300)
            density = hv.Curve((grid, model.component_density(state.theta, grid).sum(axis=0)), "x", "density",
                               label="p(x|θ)")
            out = styled(out * styled(density, color=LOGP), title=f"{len(x)} points")
        return out
    if kind == "scatter":
        q = state.q
        shade = np.asarray(q)[0] if isinstance(q, np.ndarray) and q.ndim == 2 and q.shape[1] == len(x) else \
            np.zeros(len(x))
        return styled(hv.Points((x[:, 0], x[:, 1], shade), ["x1", "x2"], "q(z = 1)"), color="q(z = 1)",
                      cmap="coolwarm", title=f"{len(x)} points, coloured by q")
    if kind == "sketch":
        return sketch(model, state)
    values = [(k, float(v)) for k, v in _coordinates(model, state.theta)]
    return styled(hv.Bars(values, "coordinate", "value"), title="θ", xrotation=60)


def sketch(model, state):
    """A model's own picture (`core/sketch.py`: its `sketch()` and `sketch_data(θ, q)`), the
    layers as the app draws them: greyscale images, bars of q stacked per point, a line per
    component, points mixing the components' colours by q."""
    from .views.base import blend
    from .views.pictures.sketch import color as colour       # the app's colour of component k
    drawing, drawn = model.sketch(), model.sketch_data(state.theta, state.q)
    hexes = lambda rgba: ["#%02x%02x%02x" % tuple(c[:3]) for c in rgba]     # noqa: E731
    parts = []
    for layer in drawing.layers:
        v = drawn[layer.name]
        if layer.kind == "images":
            for image, x, y, dw, dh, k in zip(v["image"], v["x"], v["y"], v["dw"], v["dh"], v["k"]):
                box = (float(x), float(y), float(x + dw), float(y + dh))
                parts.append(styled(hv.Image(np.asarray(image, dtype=float), bounds=box), cmap="Greys",
                                    clim=(0, 1)))
                parts.append(styled(hv.Bounds(box), color=colour(k), line_width=2))
        elif layer.kind == "bars":
            q, x, half = np.asarray(v["q"], dtype=float), np.asarray(v["x"], dtype=float), v["width"] / 2
            top = np.cumsum(q, axis=0)
            boxes = [(xi - half, b, xi + half, t, colour(k)) for k in range(len(q))
                     for xi, b, t in zip(x, top[k] - q[k], top[k])]
            parts.append(styled(hv.Rectangles(boxes, vdims="colour"), color="colour", line_alpha=0))
        elif layer.kind == "lines":
            for xs, ys, k in zip(v["xs"], v["ys"], v["k"]):
                parts.append(styled(hv.Curve((np.asarray(xs), np.asarray(ys))), color=colour(k), line_width=3))
        else:
            x, y, q = np.asarray(v["x"], dtype=float), np.asarray(v["y"], dtype=float), v.get("q")
            colours = hexes(blend(np.asarray(q, dtype=float))) if q is not None else ["#888888"] * len(x)
            parts.append(styled(hv.Points((x, y, colours), vdims="colour"), color="colour", size=5))
    return styled(hv.Overlay(parts), title=drawing.title, xlabel=drawing.x_label, ylabel=drawing.y_label)


def figure(session, key: str | None = None, which: str = "all"):
    """The app's plots in one layout (three across, as on its screen; the trace's KL in a plot
    of its own, since matplotlib has no second y axis), or one of them
    (`which` in PLOTS), along coordinate `key` (default: the one the app draws first)."""
    key = key or first_coordinate(session.model, session.frozen)
    made = {"data": lambda: data(session), "bound": lambda: bound(session, key),
            "landscape": lambda: landscape(session, key), "trace": lambda: trace(session, with_kl=False),
            "kl": lambda: kl_trace(session), "identity": lambda: identity(session)}
    if which != "all":
        return made[which]()
    return styled(hv.Layout([made[name]() for name in PLOTS]).cols(3), shared_axes=False)


def save_image(session, path, key: str | None = None, which: str = "all", fmt: str | None = None):
    """`figure(session, key, which)` written as PNG or SVG (by `path`'s ending, or `fmt`),
    drawn by matplotlib: no browser needed. Without matplotlib: an ImportError that says so."""
    try:
        import matplotlib
    except ModuleNotFoundError as exc:
        raise ImportError("explorer.plots.save_image draws with matplotlib, which is not installed: "
                          "pip install matplotlib (or, in the app, use a plot's save button or "
                          "'All plots (PNG)', which the browser draws)") from exc
    matplotlib.use("Agg")                        # no display: write files only
    import holoviews.plotting.mpl  # noqa: F401  registers the matplotlib backend (and its styles above)
    fmt = fmt or str(path).rsplit(".", 1)[-1].lower()
    hv.save(image_figure(session, key, which), str(path), fmt=fmt, backend="matplotlib", dpi=144)


def image_figure(session, key: str | None = None, which: str = "all"):
    """`figure(session, key, which)` with the matplotlib options `save_image` draws it with."""
    import holoviews.plotting.mpl  # noqa: F401
    element = figure(session, key, which)
    if which == "all":
        element = element.opts(backend="matplotlib", sublabel_format="", fig_size=180, hspace=0.35, vspace=0.35,
                               shared_axes=False)     # each plot on its own range: the bound's gap shows
    return element


def save_html(element, path, title: str = "EM explorer") -> None:
    """A figure (any HoloViews object, or a session: all its plots, as `figure`) as one HTML page
    with Bokeh's JavaScript inside, so it opens offline (`hv.save`'s default page loads Bokeh
    from a CDN and is blank without internet)."""
    from bokeh.resources import INLINE
    if not isinstance(element, hv.core.Dimensioned):
        element = figure(element)
    hv.save(element, str(path), fmt="html", backend="bokeh", resources=INLINE, title=title)


def _coordinates(model, theta):
    from .core.model import coordinates, get_coordinate
    return [(k, get_coordinate(theta, k)) for k in coordinates(model.params())[:40]]


__all__ = ["trace", "bound", "landscape", "identity", "data", "kl_trace", "figure", "save_image", "save_html", "PLOTS"]
