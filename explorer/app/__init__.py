"""The Panel layer: `App`, the explorer's user interface (`panel serve apps/explorer.py`), and
`ExplorerState`, the headless state it shows (usable and testable without a server)."""
import panel as pn

from .app import App
from .state import ExplorerState

pn.extension(notifications=False)

__all__ = ["App", "ExplorerState"]
