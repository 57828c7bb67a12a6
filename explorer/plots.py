"""HoloViews figures of a session, for notebooks, papers and lecture notes.

Each function returns HoloViews elements built from the same numbers as the app (the session's
states, `core.picture.picture`), so they compose with `+` and `*` and save with `hv.save`:

    import holoviews as hv, explorer
    from explorer import plots
    hv.extension("bokeh")                       # or "matplotlib"
    session = explorer.Session(explorer.make_model("linkage"), {"theta": 0.5})
    for _ in range(3): session.iterate()
    figure = plots.trace(session) + plots.bound(session, "theta") + plots.landscape(session, "theta")
    hv.save(figure, "em.html")

    trace(session)              log p, F and KL per half step (Curves)
    bound(session, key)         log p(X|θ) and F(θ, q) along one coordinate, the gap between (Area)
    landscape(session, key)     F(θ_t, q_φ) on the θ–q grid, with the path of the states (Image, Path)
    identity(session)           log p = F + KL at the current state (Bars)
    data(session)               the data: a histogram, or points in the plane, coloured by q
"""
from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  registers the Bokeh backend the styles below are written for
import numpy as np

from .core.families import get_family
from .core.landscape import LandscapeCalculator
from .core.picture import picture as take_picture

LOGP, F, KL = "#9467bd", "#1f77b4", "#d62728"
BOKEH = {"backend": "bokeh"}   # the styles are Bokeh's; a matplotlib user gets that backend's defaults


def _picture(session, key: str, grid: int, zoom: bool):
    calculator = LandscapeCalculator(session.model, get_family(session.family, session.model), grid)
    return take_picture(session, key, calculator, zoom=zoom)


def trace(session) -> hv.Overlay:
    """log p(X|θ), F(θ, q) and KL = log p − F at every state up to the current one."""
    states = session.states
    steps = [s.index for s in states]
    def curve(values, label, color):
        return hv.Curve((steps, values), "half step", "nats", label=label).opts(**BOKEH, color=color)
    logp = curve([s.loglik for s in states], "log p(X|θ)", LOGP)
    f = curve([s.F for s in states], "F(θ, q)", F)
    kl = curve([s.kl for s in states], "KL(q ‖ p(Z|X,θ))", KL)
    return (logp * f * kl).opts(**BOKEH, title="Trace: log p, F and KL")


def bound(session, key: str, grid: int = 200, zoom: bool = True) -> hv.Overlay:
    """Along coordinate `key` (the others held at the current θ): log p(X | θ), the bound
    F(θ, q) of the current q, and the KL gap between them."""
    slice_ = _picture(session, key, grid, zoom).bound
    gap = hv.Area((slice_.grid, slice_.F, slice_.loglik), kdims=[key], vdims=["F", "log p"],
                  label="KL gap").opts(**BOKEH, color=KL, alpha=0.2, line_alpha=0)
    logp = hv.Curve((slice_.grid, slice_.loglik), key, "nats", label="log p(X|θ)").opts(**BOKEH, color=LOGP)
    f = hv.Curve((slice_.grid, slice_.F), key, "nats", label="F(θ, q)").opts(**BOKEH, color=F, line_dash="dashed")
    now = hv.VLine(slice_.current).opts(**BOKEH, color="gray", line_dash="dotted")
    return (gap * logp * f * now).opts(**BOKEH, title=f"Bound along {key}")


def landscape(session, key: str, grid: int = 60, zoom: bool = True) -> hv.Overlay:
    """F(θ_t, q_φ) on the grid of θ_j = t (x) and the q of the E step at θ_j = φ (y), with the
    states' path: E steps move up, M steps across (the staircase of coordinate ascent)."""
    drawn = _picture(session, key, grid, zoom)
    g = drawn.landscape.grid
    image = hv.Image((g, g, drawn.landscape.F), [f"t ({key} in θ)", f"φ ({key} at q's E step)"], "F",
                     label="F(θ_t, q_φ)").opts(**BOKEH, cmap="viridis", colorbar=True)
    path = hv.Path([np.column_stack([drawn.path.t, drawn.path.phi])], label="path").opts(
        **BOKEH, color="white", line_width=2)
    points = hv.Points((drawn.path.t, drawn.path.phi), label="states").opts(**BOKEH, color="white", size=5)
    kind = "exact" if drawn.exact else f"slice, {drawn.n_free} free"
    return (image * path * points).opts(**BOKEH, title=f"θ–q landscape ({kind})")


def identity(session) -> hv.Bars:
    """log p = F + KL at the current state, as bars."""
    s = session.current
    return hv.Bars([("log p(X|θ)", s.loglik), ("F(θ, q)", s.F), ("KL", s.kl)], "quantity", "nats").opts(backend="bokeh",
        title="log p = F + KL", color=hv.dim("quantity").categorize(
            {"log p(X|θ)": LOGP, "F(θ, q)": F, "KL": KL}))


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
        out = hv.Histogram((edges, counts), kdims=["x"], vdims=["density"]).opts(
            **BOKEH, color="#bbbbbb", title=f"{len(x)} points")
        if hasattr(model, "component_density"):
            grid = np.linspace(x.min(), x.max(), 300)
            out = out * hv.Curve((grid, model.component_density(state.theta, grid).sum(axis=0)), "x", "density",
                                 label="p(x|θ)").opts(**BOKEH, color=LOGP)
        return out
    if kind == "scatter":
        q = state.q
        shade = np.asarray(q)[0] if isinstance(q, np.ndarray) and q.ndim == 2 and q.shape[1] == len(x) else \
            np.zeros(len(x))
        return hv.Points((x[:, 0], x[:, 1], shade), ["x1", "x2"], "q(z = 1)").opts(backend="bokeh",
            color="q(z = 1)", cmap="coolwarm", title=f"{len(x)} points, coloured by q")
    values = [(k, float(v)) for k, v in _coordinates(model, state.theta)]
    return hv.Bars(values, "coordinate", "value").opts(**BOKEH, title="θ", xrotation=60)


def _coordinates(model, theta):
    from .core.model import coordinates, get_coordinate
    return [(k, get_coordinate(theta, k)) for k in coordinates(model.params())[:40]]


__all__ = ["trace", "bound", "landscape", "identity", "data"]
