"""Models the server sent are known to it: the page sends them back as references only.

BokehJS (3.9) counts every model a server's patch brings (a card's contents filled when it is
first opened, say) as new to the page's document until the page sends its own next patch
(`Document._new_models`, cleared only in `create_json_patch`). The first change the page sends
about such a model, a click on a button the server has just added, then carries the whole model
back to the server that made it, and the server warns "reference already known" (Bokeh's
deserializer keeps its own instance and drops what was sent).

This page component takes a server patch's models out of the page's new ones once the patch is
applied: what the page itself made and has not sent yet stays new. If BokehJS lacks what this
relies on (another release), the component leaves it alone and the server warns as before.
`tests/ui/test_explorer_ui.py` checks that a closed card's button, filled when the card opens,
is not new to the page and that clicking it sends no model in full.
"""
from __future__ import annotations

from panel.custom import JSComponent

from .steady_styles import PATCH_ONCE_JS


class KnownModels(JSComponent):
    """Invisible; its module makes the page send the server's own models back as references."""

    _esm = PATCH_ONCE_JS + """
    const server_models_known = () => patch_once("document/document", "Document", "__server_models_known", (proto) => {
      const apply = proto.apply_json_patch;
      if (typeof apply !== "function") return false;
      proto.apply_json_patch = function (patch, buffers) {
        const fresh = this._new_models;
        if (!(fresh instanceof Set)) return apply.call(this, patch, buffers);
        const made_here = new Set(fresh);         // the page's own, not yet sent
        try {
          return apply.call(this, patch, buffers);
        } finally {
          for (const model of fresh) {
            if (!made_here.has(model)) fresh.delete(model);
          }
        }
      };
      return true;
    });

    export function render({ el }) {
      el.style.display = "none";
      el.dataset.knownModels = server_models_known() ? "on" : "off";
    }
    """
