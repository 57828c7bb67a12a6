"""What reaches the page from a URL, an upload, a lesson file or a user's model is shown as text.

Most of the page's widgets show their options and labels as text, but Bokeh's MultiChoice
(Choices.js with `allowHTML`) writes each option's label as HTML: an option named
`<img src=x onerror=...>` would run its script. `TextMultiChoice` sends each option with its
label escaped, so it reads as the text it is (the value sent back is the option itself).

A lesson's formula may use <sub> and <sup> (and <i>, <b>) for its notation; `formula_html`
keeps these bare tags and escapes everything else.
"""
from __future__ import annotations

import html
import re

import panel as pn

NOTATION_TAGS = ("sub", "sup", "i", "b")
_ESCAPED_TAG = re.compile(r"&lt;(/?)(" + "|".join(NOTATION_TAGS) + r")&gt;")


def formula_html(text: str) -> str:
    """`text` as HTML in which only the bare tags <sub>, <sup>, <i>, <b> (and their ends) are
    markup; any other tag or attribute is shown as the characters typed."""
    return _ESCAPED_TAG.sub(r"<\1\2>", html.escape(text, quote=True))


class TextMultiChoice(pn.widgets.MultiChoice):
    """`pn.widgets.MultiChoice` whose options are shown as text, never as HTML."""

    def _process_param_change(self, params):
        props = super()._process_param_change(params)
        if "options" in props:
            props["options"] = [(label, html.escape(label)) for label in props["options"]]
        return props
