"""What a projector shows wrong, read from the page: plots, legends, titles and the numbers'
tables that overlap each other or leave the window (used by tests/ui/test_projector.py and
benchmarks/screenshots.py)."""

BOXES_JS = """() => {
  // every Bokeh view on the page (BokehJS keeps replaced figures' models; only drawn ones count)
  const out = {plots: [], legends: [], titles: [], panes: [], width: window.innerWidth};
  const rect = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const walk = (view, plot) => {
    const name = view.model ? view.model.constructor.__name__ : "";
    if ((name === "Figure" || name === "Plot") && view.el && view.el.isConnected) {
      const r = rect(view.el);
      if (r[2] - r[0] > 0 && r[3] - r[1] > 0) {
        plot = {id: view.model.id, title: view.model.title ? view.model.title.text : "", box: r};
        out.plots.push(plot);
      } else plot = null;
    }
    if (plot && name === "Legend" && view.model.visible && view.bbox && view.model.items.length) {
      const b = view.bbox;
      out.legends.push({plot: plot.id, title: plot.title, box: [plot.box[0] + b.left, plot.box[1] + b.top,
                                                                 plot.box[0] + b.right, plot.box[1] + b.bottom]});
    }
    if (plot && name === "Title" && view.bbox && view.model.text) {
      const b = view.bbox;
      // in the font the title is drawn in (the page's DejaVu Sans): measured in the browser's
      // generic sans-serif (Liberation Sans here, 16 % narrower) a cut title passed
      const ctx = document.createElement("canvas").getContext("2d");
      const m = view.model;
      ctx.font = view.visuals && view.visuals.text ? view.visuals.text.font_value()
                                                   : `${m.text_font_style} ${m.text_font_size} ${m.text_font}`;
      const needed = ctx.measureText(view.model.text).width;
      out.titles.push({plot: plot.id, text: view.model.text, needed, room: plot.box[2] - plot.box[0]});
    }
    if (name === "HTML" && view.el && view.el.isConnected && view.model.visible) {
      const r = rect(view.el);
      if (r[2] - r[0] > 0 && r[3] - r[1] > 20 && (view.model.text || "").includes("table class='numbers"))
        out.panes.push({box: r, scroll: view.el.shadowRoot ? 0 : 0});
    }
    if (view.children) for (const child of view.children()) walk(child, plot);
  };
  for (const root of Bokeh.index.roots) walk(root, null);
  return out;
}"""


def overlap(a, b, slack=1.0) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[1], b[1]) > slack


def layout_problems(page) -> list[str]:
    """Overlapping plots or panes, plots leaving the window sideways, legends outside their plot,
    titles wider than their plot."""
    boxes = page.evaluate(BOXES_JS)
    problems = []
    plots, width = boxes["plots"], boxes["width"]
    for i, a in enumerate(plots):
        if a["box"][0] < -1 or a["box"][2] > width + 1:
            problems.append(f"plot {a['title']!r} leaves the window: {a['box']}")
        for b in plots[i + 1:]:
            if overlap(a["box"], b["box"]):
                problems.append(f"plots {a['title']!r} and {b['title']!r} overlap")
        for pane in boxes["panes"]:
            if overlap(a["box"], pane["box"]):
                problems.append(f"plot {a['title']!r} overlaps the numbers")
    by_id = {p["id"]: p for p in plots}
    for legend in boxes["legends"]:
        box = by_id[legend["plot"]]["box"]
        l = legend["box"]
        if l[0] < box[0] - 1 or l[2] > box[2] + 1 or l[1] < box[1] - 1 or l[3] > box[3] + 1:
            problems.append(f"the legend of {legend['title']!r} leaves its plot")
    for title in boxes["titles"]:
        if title["needed"] > title["room"] - 8:
            problems.append(f"title {title['text']!r} is cut ({title['needed']:.0f} px in {title['room']:.0f})")
    return problems


def plot_widths(page) -> dict:
    """The drawn width of each plot, by its title's first word."""
    boxes = page.evaluate(BOXES_JS)
    return {p["title"]: p["box"][2] - p["box"][0] for p in boxes["plots"]}
