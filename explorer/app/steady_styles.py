"""Plots painted without making the browser work the page's styles out again and again.

BokehJS (3.9) has four habits that, at every paint, make the browser recompute the page's
styles after any change to its elements (a click changes the numbers panel, the timeline, the
legends' labels): 45 style passes a click, and ~19 more while painting axis labels. This page
component answers each without changing what is drawn:

* **A plot's CSS variables** (`--bk-line-color`, `--bk-axis-label-text-font-size`, ...): before
  painting an axis, a title, a grid or an annotation, BokehJS asks for the element's computed
  style to read them. No style sheet of this app, Panel's or Bokeh's sets them, and the theme
  toggle reloads the page, so an element's answer never changes while a page is open: the
  component keeps each element's answers after the first (a style sheet setting them later
  would reach only the plots drawn after it).
* **A plot's font size** (for texts sized in em): asked for each time an axis measures its tick
  labels, about 15 times a click. The component keeps a plot's answer until the next frame, so a
  change of the page's font size is seen at the next paint, as before.
* **Style sheets written again with the same text**: each legend and other placed annotation
  writes its position into its own style sheet at every paint, and writing a style element's
  text, even the same text, makes the browser throw its styles away; the next canvas text then
  waits for them to be worked out again. The component skips a write whose text is already
  there.
* **A glyph renderer's box**: at every paint BokehJS also writes the box its glyph's data covers
  on screen into the renderer's own element's style sheet. That element is empty and unstyled,
  so it shows nothing wherever it is, but the box moves with the data at nearly every click
  (the trace's x range grows, a curve's top moves, a marker moves): 12–18 style sheets given new
  text a click in gmm1d, each making the next canvas text or box read wait for the styles again.
  The component places such an element once and leaves it there; an element with children,
  CSS classes, styles or style sheets of its own is placed at every paint, as before.

Measured in one page, the patches injected between blocks of 20 clicks (linkage, Chrome's trace
of the page's main thread): style passes 45 → 11 a click, their time 14 → 4 ms, click p50 74 →
53 ms. If BokehJS lacks what a patch relies on (another release), the component leaves that one
alone. `tests/ui/test_explorer_ui.py` compares the kept answers with fresh ones on every plot of
a page after steps, and checks that a style sheet given new text still changes. The glyph
renderers' boxes, both releases served at once and clicked in turn (20 clicks a block, 4 blocks
a model): the plots' paint 20–25 → 15–18 ms a click (gmm1d), click p50 linkage 55 → 55, coins
81 → 64, gmm1d 81 → 72, two-source 88 → 74 ms. The test checks that the boxes are not written
again during clicks while the data move them, and that a styled renderer's box still follows its
data.
"""
from __future__ import annotations

from panel.custom import JSComponent

# The page components' one way to patch BokehJS (kept_glyphs.py uses it too).
PATCH_ONCE_JS = """
    // BokehJS's class `name` of `module`, its prototype patched once by `patch` (which answers
    // false when the prototype lacks what it relies on: it is then left alone)
    function patch_once(module, name, flag, patch) {
      let proto;
      try {
        proto = window.Bokeh.require(module)[name].prototype;
      } catch (e) { return false; }
      if (proto[flag]) return true;
      if (!patch(proto)) return false;
      proto[flag] = true;
      return true;
    }

"""


class SteadyStyles(JSComponent):
    """Invisible; its module makes the page's plots ask the page's styles less (see the module)."""

    _esm = PATCH_ONCE_JS + """
    const once = () => patch_once("core/visuals/visual", "VisualProperties", "__once", (proto) => {
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
      return true;
    });

    const font_size_once_a_frame = () => patch_once("models/plots/plot_canvas", "PlotView", "__font_size_once", (proto) => {
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
      return true;
    });

    const same_text_unwritten = () => patch_once("core/dom", "InlineStyleSheet", "__same_text_unwritten", (proto) => {
      const update = proto._update;
      if (typeof update !== "function") return false;
      proto._update = function (css) {
        if (this.el == null || this.el.textContent !== css) update.call(this, css);
      };
      return true;
    });

    // an element that shows nothing where it is: empty, without classes, styles or style sheets
    function shows_nothing(view) {
      const { el, model } = view;
      if (el == null || el.childElementCount > 0) return false;
      const { styles } = model;
      const styled = styles != null && (styles instanceof Map ? styles.size > 0 :
                                        typeof styles.attributes === "object" ? true :   // a Styles model
                                        Object.keys(styles).length > 0);
      const classes = model.css_classes, sheets = model.stylesheets;
      return !styled && Array.isArray(classes) && classes.length == 0 && Array.isArray(sheets) && sheets.length == 0;
    }

    const glyph_boxes_placed_once = () => patch_once("models/renderers/glyph_renderer", "GlyphRendererView", "__box_once", (proto) => {
      const place = proto.update_position;
      if (typeof place !== "function") return false;
      proto.update_position = function () {
        if (this.__placed && shows_nothing(this)) return;
        place.call(this);
        this.__placed = true;
      };
      return true;
    });

    export function render({ el }) {
      el.style.display = "none";
      el.dataset.once = once() ? "on" : "off";
      el.dataset.fontSize = font_size_once_a_frame() ? "on" : "off";
      el.dataset.sameText = same_text_unwritten() ? "on" : "off";
      el.dataset.glyphBoxes = glyph_boxes_placed_once() ? "on" : "off";
    }
    """
