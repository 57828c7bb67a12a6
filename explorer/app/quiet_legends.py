"""Legends that are not built again at every click.

BokehJS (3.9) builds a legend's items again (a small canvas and three elements for each entry,
then a style and layout pass of the page) whenever any model its items reach changes: the
items' renderers, their data sources, and the views of the sources, whose `indices` and
`masked` BokehJS itself sets each time a source's data change. A click changes the data of
every plot, so the trace's legend was built 18 times a click, the bound's, the landscape's and
the others' a few times each: 13-20 ms of a 100-ms click (benchmarks/click_parts.py, the page
with and without this component, in one run).

This page component changes that in the page: when the legend's entries are still the same
items, it writes the labels that changed into their elements and marks hidden and muted items
again (what the rebuild changes for them), and builds nothing. A legend whose items come or go,
or whose own properties change, is built as BokehJS builds it. If BokehJS lacks any of what
this relies on (another release), the component leaves it alone: legends are then built as
before. `tests/ui/test_explorer_ui.py` holds the page to it.

It also gives an SVG plot's legend glyphs their size. BokehJS sizes an entry's glyph by a class
on the glyph layer's element (`.bk-glyph`: glyph_width × glyph_height), but with the SVG backend
that element is a wrapper the legend never places: it places the bare <svg>, which is 300 × 150
px (the browser's default) until the glyph is painted. A legend whose entries were built anew
(the landscape's "E: q moves" after the first E step) was laid out at 150 px a row, about
1,000 px, and the plot's frame was pushed above the plot (the θ–q landscape showed a strip
with SVG on). The <svg> now carries the class too, as the <canvas> does, also in the legends
built before this module was loaded (a page opened with `svg=1`), whose plots are then laid out
again.
"""
from __future__ import annotations

from panel.custom import JSComponent


class QuietLegends(JSComponent):
    """Invisible; its module makes the page's legends keep their entries (see the module)."""

    _esm = """
    function quiet() {
      let proto, css;
      try {
        proto = window.Bokeh.require("models/annotations/legend").LegendView.prototype;
        css = window.Bokeh.require("styles/legend.css");
      } catch (e) { return false; }
      if (proto.__quiet) return true;
      const build = proto._render_items, render = proto.render;
      const labels = Object.getOwnPropertyDescriptor(proto, "labels");
      if (typeof build !== "function" || typeof render !== "function" || typeof proto._toggle_inactive !== "function"
          || labels == null || typeof labels.get !== "function" || typeof css.hidden !== "string"
          || typeof css.glyph !== "string") return false;
      // an SVG layer's element is a wrapper; the legend places its <svg>, which then needs the size class
      const sized = (entries) => {
        for (const { glyph } of entries) if (glyph != null && glyph.canvas !== glyph.el) glyph.canvas.classList.add(css.glyph);
      };
      // a legend's own change renders it whole, as BokehJS does
      proto.render = function () {
        this.__whole = true;
        try { return render.call(this); } finally { this.__whole = false; }
      };
      proto._render_items = function () {
        const entries = this.entries, now = this.labels;
        const same = !this.__whole && Array.isArray(entries) && entries.length > 0 && now.length === entries.length
          && now.every(({ item }, i) => item === entries[i].item && entries[i].label_el != null && entries[i].el != null);
        if (!same) {
          build.call(this);
          sized(this.entries);
          return;
        }
        now.forEach(({ item, label }, i) => {
          const entry = entries[i];
          if (entry.label !== label) {
            entry.label = label;
            entry.label_el.textContent = `${label}`;
          }
          entry.el.classList.toggle(css.hidden, !item.visible);
          this._toggle_inactive(entry);
        });
      };
      proto.__quiet = true;
      // legends built before this module came (a page opened with SVG on): sized now, laid out again
      const seen = new Set();
      const visit = (view) => {
        if (view == null || seen.has(view)) return;
        seen.add(view);
        if (view instanceof proto.constructor && Array.isArray(view.entries)) {
          sized(view.entries);
          view.plot_view.request_layout(true);
        }
        for (const child of view.child_views ?? []) visit(child);
        if (view.renderer_views != null) for (const child of view.renderer_views.values()) visit(child);
      };
      for (const root of Object.values(window.Bokeh.index ?? {})) visit(root);
      return true;
    }

    export function render({ el }) {
      el.style.display = "none";
      el.dataset.quiet = quiet() ? "on" : "off";
    }
    """
