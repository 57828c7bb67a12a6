"""The Panel layer: `App`, the explorer's user interface (`panel serve apps/explorer.py`), and
`ExplorerState`, the headless state it shows (usable and testable without a server).

Panel is imported with `App` only: `explorer.app.text` and `ExplorerState` need none of it (the
standalone page is written without Panel, so it asks for none of Panel's files)."""
from .state import ExplorerState

__all__ = ["App", "ExplorerState"]


def __getattr__(name):
    if name == "App":
        import panel as pn

        from .app import App
        pn.extension(notifications=False)
        return App
    raise AttributeError(name)
