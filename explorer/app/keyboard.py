"""Keyboard shortcuts: a lecturer steps EM without the mouse.

    e  E step          m  M step          space  EM iteration      p  Play / Pause
    ←  previous state  →  next state      u  undo                  r  redo
    f  presenter layout (the sidebar folded, the chosen plots large), on or off
    ?  this list, shown or hidden (Esc hides it)

A small page component listens to key presses on the whole page and tells the server which
shortcut was pressed; keys typed into a text box, a number box or a menu are left alone.
"""
from __future__ import annotations

import param
from panel.custom import JSComponent

SHORTCUTS = (("e", "E step"), ("m", "M step"), ("space", "EM iteration"), ("p", "Play / Pause"),
             ("← / →", "previous / next state (the timeline)"), ("u / r", "undo / redo"),
             ("f", "presenter layout on / off"),
             ("?", "show or hide this list (Esc hides it)"))

KEYS = {"e": "e_step", "m": "m_step", " ": "em_iteration", "p": "play", "ArrowLeft": "back",
        "ArrowRight": "forward", "u": "undo", "r": "redo", "f": "presenter", "?": "help", "Escape": "close"}


class KeyboardShortcuts(JSComponent):
    """Counts the presses of each shortcut key; `pressed` names the last one."""

    pressed = param.String(default="")
    presses = param.Integer(default=0)
    presenter = param.Boolean(default=False, doc="The presenter layout is on: the page folds its sidebar.")
    sidebar_width = param.Integer(default=0, doc="The template's sidebar width in px (0: as the template set it).")

    _esm = """
    const KEYS = %s;
    export function render({ model, el }) {
      el.style.display = "none";
      const typing = (event) => {
        const target = event.composedPath ? event.composedPath()[0] : event.target;
        if (!target || !target.tagName) return false;
        const tag = target.tagName.toUpperCase();
        return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
      };
      // A focused slider (the timeline) moves itself with the arrows, one state: the shortcut
      // moving it too made each press skip a state (4 → 6 → 8).
      const onSlider = (event) => event.composedPath().some(
        (node) => node.getAttribute && (node.getAttribute("role") === "slider" ||
                                        (node.classList && node.classList.contains("noUi-target"))));
      const listener = (event) => {
        if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
        const key = event.key;
        if (!(key in KEYS)) return;
        if ((key === "ArrowLeft" || key === "ArrowRight") && onSlider(event)) return;
        event.preventDefault();
        model.pressed = KEYS[key];
        model.presses = model.presses + 1;
      };
      document.addEventListener("keydown", listener);
      // the template's own functions fold and unfold its sidebar
      const fold = () => {
        const call = model.presenter ? window.closeNav : window.openNav;
        if (typeof call === "function" && document.getElementById("sidebar")) call();
      };
      model.on("presenter", fold);
      if (model.presenter) setTimeout(fold, 0);
      // the sidebar as wide as its text at the scale (the template's width is its CSS variable)
      const widen = () => {
        if (model.sidebar_width > 0)
          document.documentElement.style.setProperty("--sidebar-width", model.sidebar_width + "px");
      };
      model.on("sidebar_width", widen);
      widen();         // at once too: with --reuse-sessions the page's HTML is another page's, of its scale
      model.on("remove", () => document.removeEventListener("keydown", listener));
    }
    """ % ("{" + ", ".join(f'"{k}": "{v}"' for k, v in KEYS.items()) + "}")
