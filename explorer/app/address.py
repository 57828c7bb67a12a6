"""The page's address follows the screen, so a copied URL rebuilds it (the query of
`ExplorerState.to_query`).

A small page component that the server tells the new query; the page writes it into its
address with `history.replaceState`. Panel's `pn.state.location` would do the same, but the
page then sends the new address back to the server: one more message, decoded against the
whole document, at every click (about a quarter of a click's server time). The address is read
once, when the page is requested (`pn.state.session_args`).
"""
from __future__ import annotations

import param
from panel.custom import JSComponent


class AddressWriter(JSComponent):
    """`search` ("?model=…") becomes the page's address, without a new history entry."""

    search = param.String(default="")

    _esm = """
    export function render({ model, el }) {
      el.style.display = "none";
      const write = () => {
        if (model.search && model.search !== window.location.search)
          window.history.replaceState(window.history.state, "", model.search + window.location.hash);
      };
      model.on("search", write);
      write();
    }
    """
