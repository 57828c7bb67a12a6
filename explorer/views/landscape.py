"""The θ–q landscape: filled contours of F(θ_j = t, q_φ) with a colour bar, the diagonal, and the
path of the states: E moves (q changes: vertical, along φ) and M moves (θ changes: horizontal,
along t) in their own colours, states off the path q_φ placed on the contour of their own F."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from bokeh.models import (BasicTicker, ColorBar, ColumnDataSource, HoverTool, LinearColorMapper,
                          PrintfTickFormatter)
from bokeh.palettes import Viridis256
from bokeh.plotting.contour import ContourData, FillData
from contourpy import FillType, contour_generator

from ..core.picture import landscape_axes
from .base import as_lists, new_figure, screen_decimals, set_columns, style_legend, sync_rows

N_LEVELS = 12
E_COLOR, M_COLOR, PARTIAL_COLOR = "#ff7f0e", "#d62728", "#e377c2"
MOVES = {"E": ("E: q moves ↕", E_COLOR), "M": ("M: θ moves ↔", M_COLOR), "P": ("partial E ↕", PARTIAL_COLOR)}


def levels_for(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Contour levels, evenly spaced over the colour range (low, high) (`core.picture.
    colour_range`); the lowest band reaches down to F's minimum, so F below `low` is drawn in
    the lowest colour. The colour bar maps the same even spacing, so bands and bar agree."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.arange(N_LEVELS + 1.0)
    levels = np.linspace(low, high, N_LEVELS + 1)
    levels[0] = min(levels[0], finite.min())
    return levels


def stacked_regions(grid: np.ndarray, F: np.ndarray, levels: np.ndarray) -> FillData:
    """The regions F ≥ levels[k] for each band k, lowest first (each a list of polygons, each
    polygon its outer ring then its holes). Drawn in that order, each over the one before, they
    give every point the colour of its band [levels[k], levels[k+1]), as the bands themselves
    would; but each contour line is in one polygon instead of in the two bands it parts (half
    the vertices a new landscape sends and the page draws), and two bands cannot leave a seam
    between them. (The top level is F's maximum (`levels_for`), so no F is left above the last
    band, in either drawing.)"""
    generator = contour_generator(grid, grid, F, fill_type=FillType.OuterOffset)
    above = levels[-1] + max(1.0, abs(levels[-1]))       # above every F of the landscape
    xs, ys = [], []
    for level in levels[:-1]:
        rings = [[straight_runs_joined(points[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
                 for points, offsets in zip(*generator.filled(level, above))]
        xs.append([[ring[:, 0] for ring in polygon] for polygon in rings])
        ys.append([[ring[:, 1] for ring in polygon] for polygon in rings])
    return FillData(xs=xs, ys=ys, lower_levels=levels[:-1], upper_levels=levels[1:])


def straight_runs_joined(ring: np.ndarray) -> np.ndarray:
    """`ring` (n × 2 points) without the points inside a run along one x or one y: a region
    along the landscape's edge has a vertex at every grid point of it, the same shape drawn
    with its two ends only (its first and last points are kept). A point repeated (contourpy
    gives a corner twice where F is at a level) is taken once first: else each copy was inside
    a run, and the corner was cut off."""
    ring = ring[np.concatenate([[True], np.any(ring[1:] != ring[:-1], axis=1)])]
    x, y = ring[:, 0], ring[:, 1]
    inside = ((x[:-2] == x[1:-1]) & (x[1:-1] == x[2:])) | ((y[:-2] == y[1:-1]) & (y[1:-1] == y[2:]))
    return ring[np.concatenate([[True], ~inside, [True]])] if len(ring) > 2 else ring


def moves(path) -> dict:
    """The segments between consecutive states, each with the kind of move that made it."""
    kinds = ["P" if kind == "E" and placed else kind for kind, placed in zip(path.kind[1:], path.placed[1:])]
    named = [MOVES.get(kind, MOVES["M"]) for kind in kinds]
    t, phi = np.asarray(path.t, float), np.asarray(path.phi, float)
    return dict(x0=t[:-1], y0=phi[:-1], x1=t[1:], y1=phi[1:], label=[n for n, _ in named],
                color=[c for _, c in named])


def points(path) -> dict:
    return dict(t=np.asarray(path.t, float), phi=np.asarray(path.phi, float), F=np.asarray(path.F, float),
                index=np.asarray(path.index, float), marker=["square" if p else "circle" for p in path.placed])


class LandscapeView:
    def __init__(self):
        self.moves = ColumnDataSource(dict(x0=[], y0=[], x1=[], y1=[], label=[], color=[]))
        self.points = ColumnDataSource(dict(t=[], phi=[], F=[], index=[], marker=[]))
        self.now = ColumnDataSource(dict(t=[], phi=[], F=[], index=[]))
        self.diagonal = ColumnDataSource(dict(x=[], y=[]))
        self.fixed = ColumnDataSource(dict(t=[], phi=[], color=[]))
        self.overlay = ColumnDataSource(dict(xs=[], ys=[], color=[], run=[]))
        fig = new_figure("θ–q landscape", "t (θ_j)", landscape_axes("θ_j")[1], manual=True)
        z = np.array([[0.0, 1.0], [1.0, 2.0]])
        palette = [Viridis256[int(i)] for i in np.linspace(0, 255, N_LEVELS)]
        self.contour = fig.contour([0, 1], [0, 1], z, levels=np.linspace(0, 2, N_LEVELS + 1),
                                   fill_color=palette, line_color=None)
        # Bands without outlines: the outlines would double what each new landscape sends.
        self.contour.line_renderer.visible = False
        # Beside the frame, never over the path. Its labels have at most 7 characters and the
        # plot keeps room for them (min_border_right), so new labels never lay the plot out again.
        # Its ticks are worked out in the page from the mapper's range (round numbers): a step
        # sends the mapper's low and high only. Ticks sent with each new range (a FixedTicker at
        # low, middle, high) made BokehJS lay the whole plot out again at every M step (the bar's
        # axis asks for a layout when its ticker changes): 30-37 ms of a 150-ms click.
        self.mapper = LinearColorMapper(palette=palette, low=0, high=2, low_color=palette[0])
        self.colorbar = ColorBar(color_mapper=self.mapper, title="F", width=8, padding=3, label_standoff=3,
                                 formatter=PrintfTickFormatter(format="%.5g"), ticker=BasicTicker(desired_num_ticks=5),
                                 title_standoff=2, background_fill_alpha=0, border_line_alpha=0)
        fig.add_layout(self.colorbar, "right")
        # white dashes on a dark line: seen on the bright yellow top of the colour map and, in
        # the legend's swatch, on its white background (white alone was invisible there)
        fig.line("x", "y", source=self.diagonal, color="#222222", line_width=4, legend_label="t = φ")
        fig.line("x", "y", source=self.diagonal, color="white", line_dash="dashed", line_width=2,
                 legend_label="t = φ")
        fig.segment("x0", "y0", "x1", "y1", source=self.moves, color="color", line_width=3.5,
                    legend_field="label")
        points = fig.scatter("t", "phi", source=self.points, marker="marker", size=7, color="white",
                             line_color="black")
        self.fixed_renderer = fig.scatter("t", "phi", source=self.fixed, marker="circle_x", size=16,
                                          fill_alpha=0.2, color="color", line_width=2, visible=False)
        self.overlay_renderer = fig.multi_line("xs", "ys", source=self.overlay, color="color", line_width=2,
                                               line_alpha=0.8, legend_field="run", visible=False)
        now = fig.scatter("t", "phi", source=self.now, marker="star", size=20, color="white", line_color="black",
                          line_width=1.5, legend_label="now")
        fig.add_tools(HoverTool(renderers=[points, now],
                                tooltips=[("state", "@index"), ("θ_j", "@t{0.0000}"), ("φ", "@phi{0.0000}"),
                                          ("F", "@F{0.0000}")]))
        # 3 columns overflow a 1366-px screen's third; items 6 px apart: with 1 px a row read as
        # one run of words ("M: θ moves ↔★ now")
        style_legend(fig, "below", columns=2, spacing=6)
        fig.min_border_right = 72
        self.figure = fig
        self._drawn = None

    def set_overlays(self, overlays):
        """(label, t values, φ values, colour): the paths of other runs."""
        self.overlay.data = dict(xs=[o[1] for o in overlays], ys=[o[2] for o in overlays],
                                 color=[o[3] for o in overlays], run=[o[0] for o in overlays])
        self.overlay_renderer.visible = bool(overlays)

    def update(self, picture, colors: dict):
        landscape, path = picture.landscape, picture.path
        grid = landscape.grid
        low, high = picture.colour_range
        drawn = (id(landscape.F), picture.landscape_title, picture.key, low, high)
        if drawn != self._drawn:          # the same landscape and colours (exact, one coordinate): not sent again
            self._drawn = drawn
            levels = levels_for(landscape.F, low, high)
            self.contour.levels = list(levels)
            self.mapper.low, self.mapper.high = low, high
            regions = stacked_regions(grid, landscape.F, levels)
            # the polygons as lists: as arrays each polygon would be a message frame of its own
            places = screen_decimals(grid[0], grid[-1])
            # (and the bands' 12 levels inline: as arrays they are two binary frames each)
            fill = replace(regions, xs=as_lists(regions.xs, places), ys=as_lists(regions.ys, places),
                           lower_levels=np.asarray(regions.lower_levels).tolist(),
                           upper_levels=np.asarray(regions.upper_levels).tolist())
            self.contour.set_data(ContourData(fill_data=fill, line_data=None))
            self.diagonal.data = dict(x=[grid[0], grid[-1]], y=[grid[0], grid[-1]])
            for rng in (self.figure.x_range, self.figure.y_range):
                rng.start, rng.end = grid[0], grid[-1]
            self.figure.title.text = picture.landscape_title
            self.figure.xaxis.axis_label, self.figure.yaxis.axis_label = landscape_axes(picture.key)
        sync_rows(self.moves, moves(path))         # a step adds a row: only that row is sent
        sync_rows(self.points, points(path))
        set_columns(self.now, dict(t=[picture.now[0]], phi=[picture.now[1]], F=[picture.now[2]], index=[path.index[-1]]))
        fixed = picture.fixed_points
        set_columns(self.fixed, dict(t=[v for _, v in fixed], phi=[v for _, v in fixed],
                                     color=[colors.get(n, "#333333") for n, _ in fixed]))
        self.fixed_renderer.visible = bool(fixed)
