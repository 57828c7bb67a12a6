"""Loading models written by users: from a file or module the user names, or from installed
packages that declare an entry point in the group `explorer.models`. (Nothing is ever loaded
from the browser: the app only takes models from the server's command line or the user's
Python.)

An exception raised by a user's code is reported with the frames of that code only:
`user_traceback` drops the explorer's own frames, which are noise to someone debugging a model.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from importlib.metadata import entry_points
from pathlib import Path

from .errors import ExplorerError, UserCodeError
from .model import Model, refuse_incomplete

ENTRY_POINT_GROUP = "explorer.models"
PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
LIBRARY_PARTS = tuple(f"{os.sep}{name}{os.sep}" for name in
                      ("numpy", "scipy", "panel", "param", "bokeh", "tornado", "importlib", "pyviz_comms"))


def is_model_spec(text: str) -> bool:
    return ":" in text


def load_model_class(spec: str) -> type[Model]:
    """`path/to/file.py:ClassName` or `package.module:ClassName`."""
    where, _, name = spec.rpartition(":")
    if not where or not name:
        raise ExplorerError(f"a custom model is given as path/to/file.py:ClassName or module:ClassName, got {spec!r}")
    try:
        if where.endswith(".py") or os.sep in where or "/" in where:
            path = Path(where)
            if not path.exists():
                raise ExplorerError(f"model file {where!r} does not exist")
            module_name = f"explorer_user_{path.stem}_{abs(hash(str(path.resolve())))}"
            spec_ = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(spec_)
            sys.modules[module_name] = module
            spec_.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except ExplorerError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name and where.startswith(exc.name):
            raise ExplorerError(f"cannot import module {where!r}: {exc}") from None
        raise UserCodeError(f"importing {where} failed: {exc!r}", user_traceback(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - the user's module raised while being imported
        raise UserCodeError(f"importing {where} failed: {exc!r}", user_traceback(exc)) from exc
    cls = getattr(module, name, None)
    if cls is None:
        raise ExplorerError(f"{where} has no class {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise ExplorerError(f"{spec} is not a subclass of explorer.Model")
    refuse_incomplete(cls)           # refused now, with what to write, not at its first step
    return cls


def entry_point_models() -> dict[str, type[Model]]:
    """Models that installed packages declare under the entry point group `explorer.models`."""
    found = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = point.load()
        except Exception as exc:  # noqa: BLE001 - one broken plug-in must not hide the others
            print(f"explorer: entry point {point.name!r} could not be loaded: {exc!r}", file=sys.stderr)
            continue
        if isinstance(cls, type) and issubclass(cls, Model):
            found[getattr(cls, "name", point.name) or point.name] = cls
    return found


INSTALLED = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


def is_user_frame(filename: str) -> bool:
    """A frame of the user's own code: a .py file outside the explorer, the interpreter's
    installation (the standard library, site-packages) and the libraries' compiled parts."""
    if filename.startswith("<") or not filename.endswith(".py"):
        return False
    path = os.path.realpath(filename)
    return (not path.startswith(PACKAGE_DIR) and not path.startswith(INSTALLED)
            and not any(part in path for part in LIBRARY_PARTS))


def user_traceback(exc: BaseException) -> str:
    """The traceback of `exc` with the explorer's own frames (and the interpreter's, and the
    libraries') left out."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if is_user_frame(f.filename)]
    lines = traceback.format_list(frames) if frames else []
    return "Traceback (most recent call last, your code only):\n" + "".join(lines) + \
        "".join(traceback.format_exception_only(type(exc), exc))
