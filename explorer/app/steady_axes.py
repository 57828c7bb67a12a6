"""Axes and colour bars that only grow, so a click does not lay the whole page out again.

BokehJS (3.9) lays a plot out again whenever one of its side panels (an axis, a colour bar)
asks for another thickness than it has, and it does so from the page's root: every plot and
widget of the page is measured and placed again, 17-34 ms. An axis's thickness is its widest
tick label, so it moves with the ticks: gmm2d's identity bar ("log p = F + KL") went from 55 to
66 px and back at every click (its range holds the last few nats, "−1234.5" against "−1234"),
the bound's axis and the landscape's colour bar now and then.

This page component makes each axis and colour bar ask for the thickest it has needed so far:
a panel grows when its labels need more room, and keeps that room when they need less (a few
px of the frame at most), so the ticks of a step no longer move the page. Its fonts or its
label changing (the text scale, a new coordinate) start the count again, so a panel also
shrinks back after the scale is moved down. Measured in one page, the patch injected in half
of the pages (3 × 30 clicks each): gmm2d's whole-page layouts 1.0 → 0 a click, its click p50
76 → 60 ms after an E step and 99 → 80 ms after an M step. If BokehJS lacks what this relies on
(another release), the component leaves it alone. `tests/ui/test_explorer_ui.py` holds the
page to it.
"""
from __future__ import annotations

from panel.custom import JSComponent


class SteadyAxes(JSComponent):
    """Invisible; its module makes the page's axes and colour bars only grow (see the module)."""

    _esm = """
    // `name` of `module`: its side panel asks for the thickest size it has needed since its fonts
    // or its label last changed; `along(view)` says which of get_size()'s sides is the thickness
    function thickest_so_far(module, name, along) {
      let proto;
      try {
        proto = window.Bokeh.require(module)[name].prototype;
      } catch (e) { return false; }
      if (proto.__thickest_so_far) return true;
      const get_size = proto.get_size;
      if (typeof get_size !== "function") return false;
      proto.get_size = function () {
        const size = get_size.call(this);
        const side = along(this);
        if (side == null || !(size[side] > 0)) return size;
        const m = this.model;       // what a panel's thickness is measured in: its fonts and label
        const key = [m.major_label_text_font_size, m.axis_label, m.axis_label_text_font_size, m.title,
                     m.title_text_font_size, this.plot_view?.base_font_size].join("|");
        if (this.__thickness_key !== key) {
          this.__thickness_key = key;
          this.__thickest = 0;
        }
        this.__thickest = Math.max(this.__thickest, size[side]);
        return {...size, [side]: this.__thickest};
      };
      proto.__thickest_so_far = true;
      return true;
    }

    export function render({ el }) {
      el.style.display = "none";
      // an axis's get_size() is {width: 0, height: thickness}, whatever its side
      const axes = thickest_so_far("models/axes/axis", "AxisView", () => "height");
      const bars = thickest_so_far("models/annotations/base_color_bar", "BaseColorBarView",
                                   (view) => view.panel == null ? null : view.panel.is_horizontal ? "height" : "width");
      el.dataset.axes = axes ? "on" : "off";
      el.dataset.colourBars = bars ? "on" : "off";
    }
    """
