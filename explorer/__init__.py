"""Explore the variational view of EM: log p(X|θ) = F(θ, q) + KL(q ‖ p(Z|X,θ)).

    >>> import explorer
    >>> model = explorer.make_model("linkage")
    >>> session = explorer.Session(model, {"theta": 0.5})
    >>> session.iterate().theta["theta"]          # DLR 1977 Table 1: 59/97
    array(0.60824742)

`explorer.App` (the Panel app) is imported on first use, so the library works without a browser.
"""
from .core.errors import ExplorerError
from .core.families import FAMILIES
from .core.model import Model, Option, Param
from .core.checks import check_model
from .core.compare import compare_schedules, compare_with_exact
from .core.gaussian_latent import GaussianLatentModel
from .core.generic import LogJointModel
from .core.latent_class import LatentClassModel
from .core.objective import evaluate, free_energy, kl_gap
from .core.readout import Readout, readout
from .core.session import Session, State
from .models import MODELS, make_model

__all__ = ["ExplorerError", "FAMILIES", "Model", "Option", "Param", "LatentClassModel", "GaussianLatentModel",
           "LogJointModel", "check_model", "compare_schedules", "compare_with_exact", "evaluate",
           "free_energy", "kl_gap", "Readout", "readout", "Session", "State", "MODELS", "make_model", "App"]


def __getattr__(name):
    if name == "App":
        from .app import App
        globals()["App"] = App           # once: later uses do not import (nor load Panel) again
        return App
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
