"""Tick labels that collide and axis labels that are cut, read from the page as BokehJS painted
them (used by tests/ui/test_ticks.py and benchmarks/screenshots.py).

Bokeh paints to a canvas, so the page is asked through BokehJS itself: its axis views' two
label painters are wrapped to record the boxes they paint (only the tick labels the axis's
labeling policy keeps), and each plot is painted once more (`TICKS_JS`)."""

GAP = 2.0       # px: labels closer than this read as one number ("0.50.550.60.65")

TICKS_JS = r"""() => {
  // Every painted axis's tick-label boxes and axis-label box, in canvas px, as BokehJS drew
  // them: AxisView's two label painters are wrapped to record the boxes, and every plot on the
  // page is painted once more.
  const plots = [];
  const walk = (view) => {
    const name = view.model ? view.model.constructor.__name__ : "";
    if ((name === "Figure" || name === "Plot") && view.el && view.el.isConnected) {
      const r = view.el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) plots.push(view);
    }
    if (view.children) for (const child of view.children()) walk(child);
  };
  for (const root of Bokeh.index.roots) walk(root);
  const axis = plots.map((p) => p.axis_views[0]).find((a) => a);
  if (!axis) return [];
  let proto = Object.getPrototypeOf(axis);
  while (!Object.prototype.hasOwnProperty.call(proto, "_draw_oriented_labels")) proto = Object.getPrototypeOf(proto);
  if (!proto.__recording) {
    proto.__recording = true;
    const ticks = proto._draw_oriented_labels, label = proto._draw_axis_label;
    proto._draw_oriented_labels = function (ctx, labels, coords, orient, standoff, visuals) {
      // the labels the axis's labeling policy keeps (NoOverlap drops some) are the painted ones
      const policy = this.model.major_label_policy;
      let kept = null;
      policy.filter = function (...args) { kept = Object.getPrototypeOf(this).filter.apply(this, args); return kept; };
      try { ticks.call(this, ctx, labels, coords, orient, standoff, visuals); } finally { delete policy.filter; }
      if (window.__axes && visuals === this.visuals.major_label_text && labels.length) {
        const shown = kept ? [...kept] : [];
        window.__axes.get(this).ticks = shown.map((i) => labels.items[i]).map((l) => {
          const b = l.bbox(); return {text: l.text, box: [b.left, b.top, b.right, b.bottom]}; });
        window.__axes.get(this).count = labels.length;
      }
    };
    proto._draw_axis_label = function (ctx, extents, coords) {
      const view = this._axis_label_view;
      let drawn = null;
      if (view) view.graphics = function () { drawn = Object.getPrototypeOf(this).graphics.call(this); return drawn; };
      try { label.call(this, ctx, extents, coords); } finally { if (view) delete view.graphics; }
      if (window.__axes && drawn) {
        const b = drawn.bbox(); window.__axes.get(this).label = {text: drawn.text, box: [b.left, b.top, b.right, b.bottom]};
      }
    };
  }
  const records = new Map();
  window.__axes = {get: (view) => {
    if (!records.has(view)) {
      let owner = view.parent;
      while (owner && !plots.includes(owner)) owner = owner.parent;
      records.set(view, {plot: owner && owner.model.title ? owner.model.title.text : "", dimension: view.dimension,
                         in_colorbar: !owner || !owner.axis_views.includes(view),
                         canvas: [view.canvas.bbox.width, view.canvas.bbox.height]});
    }
    return records.get(view);
  }};
  try { for (const plot of plots) { plot.invalidate_painters(); plot.repaint(); } } finally { window.__axes = null; }
  return [...records.values()];
}"""

def tick_problems(axes) -> list[str]:
    """Tick labels on one axis that overlap or touch, and axis labels leaving their canvas."""
    problems = []
    for axis in axes:
        where = f"{axis['plot']!r} {'colour bar' if axis['in_colorbar'] else 'xy'[axis['dimension']]}-axis"
        d = axis["dimension"]
        ticks = sorted(axis.get("ticks", []), key=lambda t: t["box"][d] + t["box"][d + 2])
        for a, b in zip(ticks, ticks[1:]):
            gap = b["box"][d] - a["box"][d + 2]
            if gap < GAP:
                problems.append(f"{where}: tick labels {a['text']!r} and {b['text']!r} "
                                f"{'overlap' if gap < 0 else 'touch'} ({gap:.1f} px apart)")
        if axis.get("count", 0) >= 2 and len(ticks) < 2:
            problems.append(f"{where}: only {len(ticks)} of its {axis['count']} tick labels are shown")
        label = axis.get("label")
        if label:
            w, h = axis["canvas"]
            x0, y0, x1, y1 = label["box"]
            if x0 < -1 or y0 < -1 or x1 > w + 1 or y1 > h + 1:
                problems.append(f"{where}: its label {label['text']!r} is cut ({[round(v) for v in label['box']]} "
                                f"in a {w:.0f}×{h:.0f} plot)")
    return problems


def tick_problems_of(page) -> list[str]:
    return tick_problems(page.evaluate(TICKS_JS))
