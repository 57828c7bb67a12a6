"""What a plot asks of the page's styles, asked once: its visuals' CSS variables, and its font
size once a frame.

BokehJS (3.9) lets a page's CSS set a plot's visuals (`--bk-line-color`, `--bk-axis-label-text-
font-size`, ...): before it paints an axis, a title, a grid, a legend or another annotation, it
asks the browser for the element's computed style and reads the variable. After any change to
the page's elements (a click changes the numbers panel, the timeline, the legends' labels), that
question first makes the browser work the page's styles out again: 45 times a click, 13 of a
70-ms click on linkage (`benchmarks/click_parts.py`'s trace; p50 69 → 58 ms with the answers kept,
measured in one page, alternating).

No style sheet of this app, Panel's or Bokeh's sets any of these variables, and the theme toggle
reloads the page, so an element's answer never changes while a page is open: this page component
keeps each element's answers after the first (a style sheet setting them later would reach only
the plots drawn after it).

The same holds for a plot's font size (the size of its texts given in em): BokehJS asks for the
plot element's computed style each time it measures an axis's tick labels, about 15 times a
click, 6-9 ms. The component keeps a plot's answer until the next frame, so a page's change of
font size is seen at the next paint, as before.

If BokehJS lacks what this relies on (another release), the component leaves it alone.
`tests/ui/test_explorer_ui.py` compares the kept answers with fresh ones on every plot of a page
after steps.
"""
from __future__ import annotations

from panel.custom import JSComponent


class VisualStylesOnce(JSComponent):
    """Invisible; its module makes the page's plots read their visuals' CSS variables once and
    their font size once a frame."""

    _esm = """
    function once() {
      let proto;
      try {
        proto = window.Bokeh.require("core/visuals/visual").VisualProperties.prototype;
      } catch (e) { return false; }
      if (proto.__once) return true;
      const ask = proto._get_css_value;
      if (typeof ask !== "function") return false;
      const kept = new WeakMap();              // element → (variable → its value)
      proto._get_css_value = function (name) {
        const el = this.obj.el;
        if (el == null) return ask.call(this, name);
        let values = kept.get(el);
        if (values === undefined) {
          values = new Map();
          kept.set(el, values);
        }
        const variable = `${this.css_prefix}${name}`;
        let value = values.get(variable);
        if (value === undefined) {
          value = ask.call(this, name);
          values.set(variable, value);
        }
        return value;
      };
      proto.__once = true;
      return true;
    }

    function font_size_once_a_frame() {
      let proto;
      try {
        proto = window.Bokeh.require("models/plots/plot_canvas").PlotView.prototype;
      } catch (e) { return false; }
      if (proto.__font_size_once) return true;
      const font_size = Object.getOwnPropertyDescriptor(proto, "base_font_size");
      if (font_size == null || typeof font_size.get !== "function") return false;
      const kept = new Map();                  // plot view → its font size, this frame
      let clearing = false;
      Object.defineProperty(proto, "base_font_size", {
        configurable: true,
        get() {
          let value = kept.get(this);
          if (value === undefined) {
            value = font_size.get.call(this);
            kept.set(this, value);
            if (!clearing) {
              clearing = true;
              requestAnimationFrame(() => { kept.clear(); clearing = false; });
            }
          }
          return value;
        },
      });
      proto.__font_size_once = true;
      return true;
    }

    export function render({ el }) {
      el.style.display = "none";
      el.dataset.once = once() ? "on" : "off";
      el.dataset.fontSize = font_size_once_a_frame() ? "on" : "off";
    }
    """
