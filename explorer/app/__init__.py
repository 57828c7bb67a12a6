"""The Panel layer: `App`, the explorer's user interface (`panel serve apps/explorer.py`)."""
import panel as pn

from .app import App

pn.extension("katex", notifications=False)

__all__ = ["App"]
