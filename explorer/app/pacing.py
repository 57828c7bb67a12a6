"""Play, paced by the page: it asks the server for the next half step once the last one is
painted and 1/speed seconds have passed since it last asked, so steps never queue and Pause
stops Play within one step.

A small page component (no Panel link: a link's set-up walks the whole page's models, at every
page open) that the server tells when Play is on, at what speed, and when a step was drawn
(`drawn`); it counts its requests (`requests`), which the server answers with a half step.
"""
from __future__ import annotations

import param
from panel.custom import JSComponent


class Pacer(JSComponent):
    """`requests` grows by one each time the page is ready for the next half step."""

    playing = param.Boolean(default=False)
    speed = param.Number(default=2.0, doc="Half steps per second.")
    drawn = param.Integer(default=0, doc="Raised by the server each time it has drawn a step.")
    requests = param.Integer(default=0)

    _esm = """
    export function render({ model, el }) {
      el.style.display = "none";
      let last = 0;
      const pace = () => {
        if (!model.playing) return;
        const wait = Math.max(0, 1000 / model.speed - (performance.now() - last));
        requestAnimationFrame(() => setTimeout(() => {
          if (!model.playing) return;
          last = performance.now();
          model.requests = model.requests + 1;
        }, wait));
      };
      model.on("drawn", pace);       // the last step is on the page: ask for the next
      model.on("playing", pace);     // Play was pressed: ask for the first
    }
    """
