"""The θ–q landscape: filled contours of F(θ_j = t, q_φ), the diagonal and EM's staircase."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.palettes import Viridis256
from bokeh.plotting.contour import contour_data

from .base import KL_COLOR, new_figure, style_legend

N_LEVELS = 12


def levels_for(values: np.ndarray) -> np.ndarray:
    """Contour levels spread by quantile, so that the high ground (where EM goes) is resolved
    even when F plunges far away from it."""
    finite = values[np.isfinite(values)]
    levels = np.quantile(finite, np.linspace(0.0, 1.0, N_LEVELS + 1) ** 0.6)
    if np.any(np.diff(levels) <= 0):      # ties: fall back to even spacing
        levels = np.linspace(finite.min(), finite.max(), N_LEVELS + 1)
    if levels[-1] <= levels[0]:           # a flat landscape
        levels = levels[0] + np.arange(N_LEVELS + 1.0)
    return levels


class LandscapeView:
    def __init__(self):
        self.path = ColumnDataSource(dict(t=[], phi=[], index=[]))
        self.now = ColumnDataSource(dict(t=[], phi=[]))
        self.diagonal = ColumnDataSource(dict(x=[], y=[]))
        self.fixed = ColumnDataSource(dict(t=[], phi=[], color=[]))
        self.off = ColumnDataSource(dict(t=[], phi=[], F=[], color=[], index=[]))
        self.overlay = ColumnDataSource(dict(xs=[], ys=[], color=[], label=[]))
        fig = new_figure("θ–q landscape", "t (θ_j in θ)", "φ (θ_j of q's E step)", manual=True)
        z = np.array([[0.0, 1.0], [1.0, 2.0]])
        palette = [Viridis256[int(i)] for i in np.linspace(0, 255, N_LEVELS)]
        # The band colours live in the renderer's data source, one per band: the number of
        # levels stays N_LEVELS + 1 on every update.
        self.contour = fig.contour([0, 1], [0, 1], z, levels=np.linspace(0, 2, N_LEVELS + 1),
                                   fill_color=palette, line_color="white", line_alpha=0.35, line_width=0.5)
        fig.line("x", "y", source=self.diagonal, color="white", line_dash="dashed", line_width=2,
                 legend_label="t = φ")
        fig.line("t", "phi", source=self.path, color=KL_COLOR, line_width=2.5, legend_label="EM path")
        fig.scatter("t", "phi", source=self.path, color=KL_COLOR, size=5)
        fig.scatter("t", "phi", source=self.now, marker="star", size=16, color="white", line_color="black",
                    legend_label="now")
        self.fixed_renderer = fig.scatter("t", "phi", source=self.fixed, marker="circle_x", size=15,
                                          fill_alpha=0.2, color="color", line_width=2, visible=False)
        self.overlay_renderer = fig.multi_line("xs", "ys", source=self.overlay, color="color", line_width=2,
                                               legend_field="label", visible=False)
        self.off_renderer = fig.scatter("t", "phi", source=self.off, marker="square", size=10, fill_color="color",
                                        line_color="black", legend_label="off the slice (colour: own F)",
                                        visible=False)
        fig.add_tools(HoverTool(renderers=[self.off_renderer],
                                tooltips=[("state", "@index"), ("θ_j", "@t"), ("own F", "@F{0.0000}")]))
        style_legend(fig, "top_left")
        self.figure = fig

    def set_overlays(self, overlays):
        """(label, t values, φ values, colour): the paths of other runs."""
        self.overlay.data = dict(xs=[o[1] for o in overlays], ys=[o[2] for o in overlays],
                                 color=[o[3] for o in overlays], label=[o[0] for o in overlays])
        self.overlay_renderer.visible = bool(overlays)

    def update(self, landscape, path, current: tuple[float, float] | None, label: str, n_free: int,
               fixed_points=(), off=((), (), ())):
        """path: the staircase (t, φ, indices); off: states off the slice (t, own F, indices),
        drawn on the diagonal in the colour of their own F, not snapped to a contour."""
        grid = landscape.grid
        levels = levels_for(landscape.F)
        self.contour.levels = list(levels)
        self.contour.set_data(contour_data(grid, grid, landscape.F, levels=levels))
        self.diagonal.data = dict(x=[grid[0], grid[-1]], y=[grid[0], grid[-1]])
        self.fixed.data = dict(t=[v for _, v, _ in fixed_points], phi=[v for _, v, _ in fixed_points],
                               color=[c for _, _, c in fixed_points])
        self.fixed_renderer.visible = bool(fixed_points)
        band = np.clip(np.searchsorted(levels, np.asarray(off[1], dtype=float)) - 1, 0, N_LEVELS - 1)
        palette = self.contour.fill_renderer.data_source.data["fill_color"]
        self.off.data = dict(t=list(off[0]), phi=list(off[0]), F=list(off[1]), index=list(off[2]),
                             color=[palette[b] for b in band])
        self.off_renderer.visible = len(off[0]) > 0
        ts, phis, indices = path
        self.path.data = dict(t=ts, phi=phis, index=indices)
        self.now.data = dict(t=[current[0]], phi=[current[1]]) if current else dict(t=[], phi=[])
        kind = "exact" if landscape.exact else f"slice: {n_free} free coords"
        self.figure.title.text = f"θ–q landscape ({kind})"
        self.figure.xaxis.axis_label = f"t ({label} in θ)"
        self.figure.yaxis.axis_label = f"φ ({label} at q's E step)"
        for rng in (self.figure.x_range, self.figure.y_range):
            rng.start, rng.end = grid[0], grid[-1]
