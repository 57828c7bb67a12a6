"""The Panel layer: `App`, the explorer's user interface (`panel serve apps/explorer.py`), and
`ExplorerState`, the headless state it shows (usable and testable without a server).

Panel is imported with `App` only: `ExplorerState` needs none of it."""
from .state import ExplorerState

__all__ = ["App", "ExplorerState"]


def _bokeh_loaded(pn) -> bool:
    """Has this process loaded Panel's scripts already (`pn.extension()`, or HoloViews' Bokeh
    extension, which loads the same scripts)? Then a notebook has them, and loading them again
    would only add another copy of the loader to the notebook."""
    import sys
    hv = sys.modules.get("holoviews")
    by_holoviews = hv is not None and getattr(hv.extension, "_loaded", False) and hv.Store.current_backend == "bokeh"
    return bool(pn.extension._loaded or by_holoviews)


def __getattr__(name):
    """`App`, imported on first use with Panel's extension loaded once per process: each
    `pn.extension()` call sends Panel's loader scripts to a notebook again, so App is then kept
    as the module's own attribute and later uses do not come here."""
    if name == "App":
        import panel as pn

        from .app import App
        globals()["App"] = App
        if not _bokeh_loaded(pn):
            pn.extension(notifications=False)
        return App
    raise AttributeError(name)
