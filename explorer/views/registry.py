"""The data pictures by kind: a model declares the kind it wants (`Model.data_view`), each
kind's builder registers itself with `@data_view("kind")`, and `data_view_for(model)` builds
the one the model asks for. A builder is a class taking the model, with a `figure` and an
`update(state)` that changes its data sources in place.

Builders live in `views/data.py` (the generic ones, which read a model's optional hooks) and in
the modules of `views/pictures/`, each found and imported here: a model with a picture of its
own adds one module there (or declares the library-neutral "sketch" kind and draws in its own
file, see `core/sketch.py`) and edits nothing else. Without a declaration the kind follows from
the data and q (`view_kind`).
"""
from __future__ import annotations

import importlib
import pkgutil

import numpy as np

DATA_VIEWS: dict[str, type] = {}
_loaded = False


def data_view(kind: str):
    """Class decorator: register the builder of the data picture `kind`."""
    def register(cls):
        if kind in DATA_VIEWS and DATA_VIEWS[kind] is not cls:
            raise ValueError(f"two builders for the data picture {kind!r}: "
                             f"{DATA_VIEWS[kind].__qualname__} and {cls.__qualname__}")
        DATA_VIEWS[kind] = cls
        return cls
    return register


def builders() -> dict[str, type]:
    """Every registered builder, by kind (the modules that hold them imported once)."""
    global _loaded
    if not _loaded:
        from . import data, pictures   # noqa: F401  (importing a module registers its builders)
        for found in pkgutil.iter_modules(pictures.__path__):
            importlib.import_module(f"{pictures.__name__}.{found.name}")
        _loaded = True
    return DATA_VIEWS


def view_kind(model) -> str:
    """The declared kind of data picture, or the one the data and q call for."""
    kinds = builders()
    declared = getattr(model, "data_view", None)
    if declared:
        if declared not in kinds:
            raise ValueError(f"model {model.name} declares data_view {declared!r}; kinds: {', '.join(kinds)}")
        return declared
    data = np.asarray(model.data) if isinstance(model.data, np.ndarray) else None
    if data is not None and np.issubdtype(data.dtype, np.number):
        if data.ndim == 1 or (data.ndim == 2 and data.shape[1] == 1):
            return "histogram"
        if data.ndim == 2 and data.shape[1] == 2:
            return "scatter"
    if hasattr(model, "n_classes") and hasattr(model, "n_points"):
        return "heat"
    return "theta"


def data_view_for(model):
    return builders()[view_kind(model)](model)
