"""Every plot on screen in one file: two buttons that save them as one PNG or one SVG.

The browser does it all (BokehJS exports each plot as its save tool does, and the plots are
placed where they are on the page); the server does nothing. A page component rather than a
Panel button with a JavaScript link: a link's set-up walks the whole page's models at every
page open.
"""
from __future__ import annotations

import param
from panel.custom import JSComponent

PLOT_TAG = "explorer-plot"      # the figures it saves (not the Checks card's pictures)


class SavePlots(JSComponent):
    """Buttons "All plots (PNG)" and "All plots (SVG)"; `saved` counts the files saved."""

    tag = param.String(default=PLOT_TAG)
    saved = param.Integer(default=0)

    _stylesheets = ["""
    .row { display: flex; gap: 10px; }
    button { flex: 1; padding: 6px 8px; border: 1px solid rgba(128, 128, 128, 0.35); border-radius: 4px;
             background: rgba(128, 128, 128, 0.08); color: inherit; font: inherit; cursor: pointer; }
    button:hover { background: rgba(128, 128, 128, 0.2); }
    """]

    _esm = """
    function download(blob, name) {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob); a.download = name;
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    }

    function save(kind, tag) {
      const seen = new Set();
      const views = [...Bokeh.index.query(v => v.model.tags && v.model.tags.includes(tag) && typeof v.export === "function")]
        .filter(v => { const r = v.el.getBoundingClientRect(); const fresh = !seen.has(v.model.id); seen.add(v.model.id);
                       return fresh && r.width > 0 && r.height > 0; });
      if (!views.length) return false;
      const rects = views.map(v => v.el.getBoundingClientRect());
      const left = Math.min(...rects.map(r => r.left)), top = Math.min(...rects.map(r => r.top));
      const width = Math.max(...rects.map(r => r.right)) - left, height = Math.max(...rects.map(r => r.bottom)) - top;
      if (kind === "png") {
        const scale = window.devicePixelRatio || 1;
        const out = document.createElement("canvas");
        out.width = Math.ceil(width * scale); out.height = Math.ceil(height * scale);
        const ctx = out.getContext("2d");
        ctx.fillStyle = "white"; ctx.fillRect(0, 0, out.width, out.height);
        views.forEach((v, i) => ctx.drawImage(v.export("png", true).canvas, (rects[i].left - left) * scale,
                                              (rects[i].top - top) * scale, rects[i].width * scale, rects[i].height * scale));
        out.toBlob(blob => download(blob, "em-plots.png"), "image/png");
      } else {
        const parts = views.map((v, i) => v.export("svg", false).ctx.get_serialized_svg(true)
          .replace("<svg", `<svg x="${rects[i].left - left}" y="${rects[i].top - top}"`));
        const text = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ` +
                     `width="${Math.ceil(width)}" height="${Math.ceil(height)}"><rect width="100%" height="100%" fill="white"/>` +
                     parts.join("") + "</svg>";
        download(new Blob([text], {type: "image/svg+xml"}), "em-plots.svg");
      }
      return true;
    }

    export function render({ model, el }) {
      const row = document.createElement("div");
      row.className = "row";
      for (const kind of ["png", "svg"]) {
        const button = document.createElement("button");
        button.textContent = `All plots (${kind.toUpperCase()})`;
        button.addEventListener("click", () => { if (save(kind, model.tag)) model.saved = model.saved + 1; });
        row.appendChild(button);
      }
      el.appendChild(row);
    }
    """
