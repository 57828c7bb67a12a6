"""Glyph views that inherit their data from the glyph keep it across clicks.

BokehJS (3.9) gives every glyph renderer five views of its glyph: the glyph itself, and the
glyphs it draws for selected, unselected, muted and decimated (level-of-detail) points. The four
others read the glyph's data and visuals wherever theirs are equal: at every change of a source's
data, each of them defines each such attribute again as a getter of the glyph's (two
`Object.defineProperty` calls an attribute, with the garbage they leave), though the getter it
replaces was the same, reading the same attribute of the same glyph. A gmm1d M click changes the
data of about 15 renderers: some 2,200 such definitions a click, about a fifth of the page's
work on the click's message outside painting (Chrome's CPU profile of the page).

This page component skips a definition that is already in place: an attribute whose getter
already reads the same attribute of the same glyph. An attribute given a value of its own
(`_define_attr`, which marks it not inherited) is inherited again as before, so what every view
reads is what BokehJS gives it. If BokehJS lacks what this relies on (another release), the
component leaves it alone. Measured with and without it, both served at once and clicked in
turn (20 clicks a block, 4 blocks a model): click p50 coins 67 → 60, gmm1d 79 → 76, two-source
71 → 66, gmm2d 63 → 59 ms; 2,200 definitions a click → none. `tests/ui/test_explorer_ui.py`
checks that none is made again over four half steps, that every inherited attribute of every
glyph view reads its glyph's value and that what BokehJS's rule says may be inherited is, also
after an attribute held a value of its own.
"""
from __future__ import annotations

from panel.custom import JSComponent

from .steady_styles import PATCH_ONCE_JS


class KeptGlyphs(JSComponent):
    """Invisible; its module makes the page's glyph views keep what they inherit (see the module)."""

    _esm = PATCH_ONCE_JS + """
    const keep_inherited = () => patch_once("models/glyphs/glyph", "GlyphView", "__inherited_kept", (proto) => {
      const inherit = proto._inherit_from;
      if (typeof inherit !== "function" || typeof proto._define_attr !== "function") return false;
      proto._inherit_from = function (attr, base) {
        let bases = this.__inherited_from;
        if (bases === undefined) {
          bases = new Map();              // attribute → the glyph view its getter reads
          this.__inherited_from = bases;
        }
        if (this[`inherited_${attr}`] === true && bases.get(attr) === base) return;
        inherit.call(this, attr, base);
        bases.set(attr, base);
      };
      return true;
    });

    export function render({ el }) {
      el.style.display = "none";
      el.dataset.keptGlyphs = keep_inherited() ? "on" : "off";
    }
    """
