"""The generic data pictures: they read a model's data and optional hooks, and no code here
branches on a model's name or class. Each registers its kind (see `views.registry`, which
picks one for a model):

    histogram        1-D values; hook `component_density(θ, grid)` adds the weighted densities
    scatter          points in the plane coloured by q; hook `component_shapes(θ)` → (means, covariances)
    classes          Σ_i q(z_i = k) per class (a latent-class model)
    heat             q(z_i = k) as a heat strip (a latent-class model)
    latent-gaussian  one point's exact posterior of (z_1, z_2) against q (hook `column_cosines(θ)`)
    lifetimes        hook `lifetimes(q)` → time, observed, expected lifetime under q
    imputed          hook `imputed_points(q)`: two columns filled in by q, with their spread
    series           hook `series(θ, q)`: a series coloured by q's state probabilities
    theta            θ's coordinates (any model)
"""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, LinearColorMapper, LogColorMapper
from bokeh.palettes import Greys256

from .base import (LOGP_COLOR, PALETTE, add_subtitle, as_lists, blend, ellipse, grey, new_figure, padded, shown_points,
                   style_legend)
from .registry import data_view, data_view_for, view_kind  # noqa: F401  (the last two: for importers of views.data)


def q_per_point(q, n: int):
    """q as a (K, n) matrix of q(z_i = k) when it is one (latent-class models), else None."""
    if isinstance(q, np.ndarray) and q.ndim == 2 and q.shape[1] == n:
        return q
    return None


@data_view("histogram")
class HistogramView:
    """Histogram of 1-D data; the weighted component densities and their sum where the model
    gives them; points coloured by q where q is a class per point."""

    def __init__(self, model):
        self.model = model
        x = np.asarray(model.data, dtype=float).reshape(-1)
        self.n = len(x)
        counts, edges = np.histogram(x, bins=min(60, max(10, int(np.sqrt(len(x))))), density=True)
        self.grid = np.linspace(*padded(x.min(), x.max(), 0.05), 300)
        self.shown = shown_points(len(x))
        has_density = hasattr(model, "component_density")
        fig = new_figure(f"{len(x)} points" + (", p(x|θ)" if has_density else "") + ", ◆ by q", "x", "density")
        fig.quad(left=edges[:-1], right=edges[1:], bottom=0, top=counts, color="#bbbbbb", alpha=0.6,
                 line_color="white")
        self.components = ColumnDataSource(dict(xs=[], ys=[], color=[]))
        self.mixture = ColumnDataSource(dict(x=[], y=[]))
        self.points = ColumnDataSource(dict(x=x[self.shown], y=np.full(len(self.shown), -0.04 * counts.max()),
                                            color=grey(len(self.shown))))
        self._drawn = (None, None)       # (θ, q) drawn: a step changes one of them, so only it is sent
        if has_density:
            fig.multi_line("xs", "ys", color="color", source=self.components, line_width=2)
            fig.line("x", "y", source=self.mixture, color=LOGP_COLOR, line_width=2.5)
        fig.scatter("x", "y", source=self.points, color="color", size=6, alpha=0.7, marker="diamond")
        fig.y_range.start = -0.08 * counts.max()
        self.figure = fig

    def update(self, state):
        theta_drawn, q_drawn = self._drawn
        self._drawn = (state.theta, state.q)
        if hasattr(self.model, "component_density") and state.theta is not theta_drawn:
            dens = self.model.component_density(state.theta, self.grid)
            if len(self.components.data["xs"]) == len(dens):     # the x grid is there: send the densities only
                self.components.data.update(ys=list(dens))
                self.mixture.data.update(y=dens.sum(axis=0))
            else:
                self.components.data = dict(xs=[self.grid] * len(dens), ys=list(dens),
                                            color=[PALETTE[k % 10] for k in range(len(dens))])
                self.mixture.data = dict(x=self.grid, y=dens.sum(axis=0))
        q = q_per_point(state.q, self.n)
        if q is not None and state.q is not q_drawn:
            self.points.data.update(color=blend(q[:, self.shown]))


@data_view("scatter")
class ScatterView:
    """Points in the plane coloured by q; each component's 1σ and 2σ ellipses where the model
    gives them (`component_shapes`)."""

    def __init__(self, model):
        self.model = model
        x = np.asarray(model.data, dtype=float)
        self.n = len(x)
        self.shown = shown_points(len(x))
        has_shapes = hasattr(model, "component_shapes")
        sampled = len(self.shown) < len(x)
        what = f"{len(x)} points (grey), {len(self.shown)} by q" if sampled else f"{len(x)} points by q"
        fig = new_figure(what + (", 1σ, 2σ" if has_shapes and not sampled else ""), "x₁", "x₂")   # the legend says it too
        self.density = density_image(fig, x) if sampled else None     # every point, under the drawn ones
        self.points = ColumnDataSource(dict(x=x[self.shown, 0], y=x[self.shown, 1], color=grey(len(self.shown))))
        self._drawn = (None, None)       # (θ, q) drawn
        fig.scatter("x", "y", source=self.points, color="color", size=5, alpha=0.7)
        self.ellipses = {1: ColumnDataSource(dict(xs=[], ys=[], color=[])),
                         2: ColumnDataSource(dict(xs=[], ys=[], color=[]))}
        self.means = ColumnDataSource(dict(x=[], y=[], color=[]))
        if has_shapes:
            fig.multi_line("xs", "ys", color="color", source=self.ellipses[1], line_width=2.5, legend_label="1σ")
            fig.multi_line("xs", "ys", color="color", source=self.ellipses[2], line_width=2, line_dash="dashed",
                           legend_label="2σ")
            fig.scatter("x", "y", source=self.means, color="color", marker="x", size=14, line_width=3)
            style_legend(fig, "below", columns=3)
        self.figure = fig

    def update(self, state):
        theta_drawn, q_drawn = self._drawn
        self._drawn = (state.theta, state.q)
        if hasattr(self.model, "component_shapes") and state.theta is not theta_drawn:
            means, covs = self.model.component_shapes(state.theta)
            for radius, source in self.ellipses.items():
                curves = [ellipse(mean, cov, radius) for mean, cov in zip(means, covs)]
                source.data = dict(xs=[c[0] for c in curves], ys=[c[1] for c in curves],
                                   color=[PALETTE[k % 10] for k in range(len(curves))])
            self.means.data = dict(x=means[:, 0], y=means[:, 1], color=[PALETTE[k % 10] for k in range(len(means))])
        q = q_per_point(state.q, self.n)
        if q is not None and state.q is not q_drawn:
            self.points.data.update(color=blend(q[:, self.shown]))


def density_image(fig, x, bins: int = 80) -> ColumnDataSource:
    """Every point of x (n, 2) as counts on a bins × bins grid, drawn in greys on a log scale
    (empty cells left clear): the data as a whole when only a sample of points is drawn."""
    counts, xe, ye = np.histogram2d(x[:, 0], x[:, 1], bins=bins)
    source = ColumnDataSource(dict(image=[counts.T], x=[xe[0]], y=[ye[0]], dw=[xe[-1] - xe[0]], dh=[ye[-1] - ye[0]]))
    shades = LogColorMapper(palette=Greys256[110:][::-1], low=1, high=max(2.0, counts.max()), low_color=(0, 0, 0, 0))
    fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=source, color_mapper=shades)
    return source


@data_view("classes")
class ClassMassView:
    """For any latent-class model: the mass Σ_i q(z_i = k) of each class under q."""

    def __init__(self, model):
        self.model = model
        self.classes = [str(k + 1) for k in range(model.n_classes())]
        fig = new_figure(f"{model.title}: Σᵢ q(zᵢ = k)", "class k", "expected count", x_range=self.classes)
        self.source = ColumnDataSource(dict(k=[], mass=[], color=[]))
        fig.vbar(x="k", top="mass", width=0.7, color="color", source=self.source)
        fig.y_range.start = 0
        self.figure = fig

    def update(self, state):
        mass = np.asarray(state.q).sum(axis=1)
        self.source.data = dict(k=self.classes, mass=mass, color=[PALETTE[k % 10] for k in range(len(mass))])


@data_view("theta")
class ThetaView:
    """For any other model: the scalar coordinates of θ."""

    def __init__(self, model):
        from ..core.model import coordinates
        self.keys = coordinates(model.params())[:40]
        fig = new_figure(f"{model.title}: θ", "coordinate", "value", x_range=self.keys)
        fig.xaxis.major_label_orientation = 0.8
        self.source = ColumnDataSource(dict(key=[], value=[]))
        fig.vbar(x="key", top="value", width=0.7, source=self.source, color=PALETTE[0])
        self.figure = fig

    def update(self, state):
        from ..core.model import get_coordinate
        self.source.data = dict(key=self.keys, value=[get_coordinate(state.theta, k) for k in self.keys])


@data_view("latent-gaussian")
class LatentPosteriorView:
    """For a Gaussian latent model: the exact posterior of (z_1, z_2) for one data point against
    the current q, as 1σ and 2σ ellipses (Bishop's Figure 10.2 for the mean-field family)."""

    def __init__(self, model):
        self.model = model
        data = np.asarray(model.data)
        size = np.abs(data).reshape(len(data), -1).sum(axis=1)
        self.point = int(np.argsort(size)[len(size) // 2])    # a typical point: the median size
        fig = new_figure(f"Point {self.point + 1}: p(z|x,θ) and q(z)", "z₁", "z₂")
        self.sources = {}
        for name, color, dash in (("posterior", LOGP_COLOR, "solid"), ("q", PALETTE[0], "dashed")):
            self.sources[name] = ColumnDataSource(dict(xs=[], ys=[]))
            fig.multi_line("xs", "ys", source=self.sources[name], color=color, line_width=2.5, line_dash=dash,
                           legend_label="exact posterior" if name == "posterior" else "q now (1σ, 2σ)")
        self.means = ColumnDataSource(dict(x=[], y=[], color=[]))
        fig.scatter("x", "y", source=self.means, color="color", size=9)
        fig.match_aspect = True
        self.subtitle = add_subtitle(fig) if hasattr(model, "column_cosines") else None
        style_legend(fig, "below", columns=3)
        self.figure = fig
        self.drawn = {}            # name → (mean, cov) its ellipses were drawn for

    def update(self, state):
        posterior = self.model.posterior(state.theta)
        centres = []
        for name, q in (("posterior", posterior), ("q", state.q)):
            mean, cov = q.mean[self.point, :2], q.cov[:2, :2]
            drawn = (mean.tobytes(), cov.tobytes())
            if self.drawn.get(name) != drawn:      # an E step leaves the posterior, an M step q
                self.drawn[name] = drawn
                curves = [ellipse(mean, cov, r) for r in (1, 2)]
                # as one list each: as arrays, each curve's x and y would be two binary frames
                self.sources[name].data = dict(xs=as_lists([c[0] for c in curves]), ys=as_lists([c[1] for c in curves]))
            centres.append(mean)
        self.means.data = dict(x=[c[0] for c in centres], y=[c[1] for c in centres],
                               color=[LOGP_COLOR, PALETTE[0]])
        if self.subtitle is not None:   # factor analysis: mean field drives this cosine to 0
            cosine = self.model.column_cosines(state.theta)[0, 1]
            self.subtitle.text = f"cos∠(W₁, W₂) in the Ψ⁻¹ metric: {cosine:+.4f}"


@data_view("lifetimes")
class LifetimesView:
    """Follow-up times, one line per unit (longest at the top): an event seen at t (filled dot)
    or censored at t (open dot), and for a censored unit the lifetime q expects, t + E_q[excess],
    as a dashed extension. Hook: `lifetimes(q)` → time, observed, expected."""

    def __init__(self, model):
        self.model = model
        times = np.asarray(model.lifetimes(model.initial_q(model.start_theta()))["time"])
        self.shown = np.sort(shown_points(len(times), 120))
        self.order = self.shown[np.argsort(times[self.shown], kind="stable")]
        fig = new_figure(f"Lifetimes of {len(times)} units", "time", "unit", manual=True)
        fig.yaxis.visible = False
        self.subtitle = add_subtitle(fig)
        self.seen = ColumnDataSource(dict(x0=[], x1=[], y=[], fill=[]))
        self.extra = ColumnDataSource(dict(x0=[], x1=[], y=[]))
        fig.segment("x0", "y", "x1", "y", source=self.seen, color="#555555", line_width=2)
        fig.segment("x0", "y", "x1", "y", source=self.extra, color=PALETTE[0], line_width=2, line_dash="dashed",
                    legend_label="censored: expected remaining life under q")
        fig.scatter("x1", "y", source=self.seen, size=7, line_color="#555555", fill_color="fill",
                    legend_label="event (filled) / censored (open)")
        fig.y_range.start, fig.y_range.end = -1, len(self.order)
        style_legend(fig, "below", columns=1)
        self.figure = fig

    def update(self, state):
        drawn = self.model.lifetimes(state.q)
        time, observed, expected = (np.asarray(drawn[k])[self.order] for k in ("time", "observed", "expected"))
        y = np.arange(len(self.order))
        self.seen.data = dict(x0=np.zeros(len(y)), x1=time, y=y,
                              fill=np.where(observed, "#555555", "white").tolist())
        cens = ~observed
        self.extra.data = dict(x0=time[cens], x1=expected[cens], y=y[cens])
        self.figure.x_range.start, self.figure.x_range.end = 0, float(max(expected.max(), time.max()) * 1.05)
        excess = float(np.mean(expected[cens] - time[cens])) if cens.any() else 0.0
        self.subtitle.text = f"{int(observed.sum())} events, {int(cens.sum())} censored; E_q[excess] = {excess:.3g}"


@data_view("imputed")
class ImputedView:
    """Two columns of a table with missing cells: complete rows in grey, rows with a filled-in
    entry at q's means with ±1 sd bars along what q filled in. Hook: `imputed_points(q)`."""

    def __init__(self, model):
        self.model = model
        drawn = model.imputed_points(model.initial_q(model.start_theta()))
        x_name, y_name = drawn["names"]
        self.filled = drawn["missing_x"] | drawn["missing_y"]
        fig = new_figure(f"{x_name} vs {y_name}, {int(self.filled.sum())} filled in", x_name, y_name, manual=True)
        self.subtitle = add_subtitle(fig)
        seen = ~self.filled
        fig.scatter(np.asarray(drawn["x"])[seen], np.asarray(drawn["y"])[seen], color="#999999", size=5,
                    alpha=0.7, legend_label="observed")
        self.bars = ColumnDataSource(dict(xs=[], ys=[]))
        self.points = ColumnDataSource(dict(x=[], y=[]))
        fig.multi_line("xs", "ys", source=self.bars, color=PALETTE[0], alpha=0.6, line_width=1.5)
        fig.scatter("x", "y", source=self.points, color=PALETTE[0], size=7, marker="diamond",
                    legend_label="filled in: q's mean ± 1 sd")
        style_legend(fig, "below", columns=2)
        self.figure = fig

    def update(self, state):
        d = self.model.imputed_points(state.q)
        x, y, sx, sy = (np.asarray(d[k], dtype=float) for k in ("x", "y", "sx", "sy"))
        rows = np.flatnonzero(self.filled)
        xs, ys = [], []
        for i in rows:
            if d["missing_x"][i]:
                xs.append([x[i] - sx[i], x[i] + sx[i]]); ys.append([y[i], y[i]])
            if d["missing_y"][i]:
                xs.append([x[i], x[i]]); ys.append([y[i] - sy[i], y[i] + sy[i]])
        self.bars.data = dict(xs=xs, ys=ys)
        self.points.data = dict(x=x[rows], y=y[rows])
        lo_x, hi_x = padded(float(np.min(x - sx)), float(np.max(x + sx)), 0.05)
        lo_y, hi_y = padded(float(np.min(y - sy)), float(np.max(y + sy)), 0.05)
        self.figure.x_range.start, self.figure.x_range.end = lo_x, hi_x
        self.figure.y_range.start, self.figure.y_range.end = lo_y, hi_y
        self.subtitle.text = (f"mean filled-in {d['names'][0]}: {float(np.mean(x[d['missing_x']])):.4g}"
                              if d["missing_x"].any() else "")


@data_view("series")
class SeriesView:
    """A series in time order, each observation coloured by q's state probabilities γ_t (the
    states' colours mixed), with the states' means as dashed levels and the transition matrix
    in the subtitle. Hook: `series(θ, q)` → x, probabilities (K, T), transmat, means."""

    def __init__(self, model):
        self.model = model
        x = np.asarray(model.data, dtype=float)
        self.shown = shown_points(len(x), 1500)
        fig = new_figure(f"{len(x)} steps, coloured by q(z_t)", "t", "x_t")
        fig.line(self.shown, x[self.shown], color="#bbbbbb", line_width=1)
        self.points = ColumnDataSource(dict(t=self.shown, x=x[self.shown], color=grey(len(self.shown))))
        fig.scatter("t", "x", source=self.points, color="color", size=5)
        self.levels = ColumnDataSource(dict(xs=[], ys=[], color=[]))
        fig.multi_line("xs", "ys", source=self.levels, color="color", line_dash="dashed", line_width=2)
        self.subtitle = add_subtitle(fig)
        self.figure = fig

    def update(self, state):
        drawn = self.model.series(state.theta, state.q)
        probabilities = np.asarray(drawn["probabilities"])[:, self.shown]
        self.points.data.update(color=blend(probabilities))
        ends = [float(self.shown[0]), float(self.shown[-1])]
        self.levels.data = dict(xs=[ends] * len(drawn["means"]), ys=[[float(m)] * 2 for m in drawn["means"]],
                                color=[PALETTE[k % 10] for k in range(len(drawn["means"]))])
        rows = " | ".join(" ".join(f"{v:.2f}" for v in row) for row in np.asarray(drawn["transmat"]))
        self.subtitle.text = f"A: {rows}"


@data_view("heat")
class HeatStripView:
    """For any model with a class per point: q(z_i = k) as a heat strip, points along x, classes
    along y (the generic fallback when the data are not values on a line or in the plane)."""

    def __init__(self, model):
        self.model = model
        self.k = model.n_classes()
        self.shown = shown_points(model.n_points(), 600)
        fig = new_figure(f"q(zᵢ = k) for {len(self.shown)} points", "point i", "class k", manual=True)
        self.mapper = LinearColorMapper(palette="Viridis256", low=0.0, high=1.0)
        self.source = ColumnDataSource(dict(image=[], x=[], y=[], dw=[], dh=[]))
        fig.image("image", x="x", y="y", dw="dw", dh="dh", source=self.source, color_mapper=self.mapper)
        fig.x_range.start, fig.x_range.end = 0, len(self.shown)
        fig.y_range.start, fig.y_range.end = 0.5, self.k + 0.5
        self.figure = fig

    def update(self, state):
        q = np.asarray(state.q, dtype=float)[:, self.shown]
        self.source.data = dict(image=[q], x=[0], y=[0.5], dw=[len(self.shown)], dh=[self.k])
