"""The built-in models, by name, and `make_model`, which builds one with its data."""
from __future__ import annotations

from ..core.errors import ExplorerError
from ..core.loading import entry_point_models, is_model_spec, load_model_class
from ..core.model import Model, refuse_incomplete
from ..datasets import read_table
from .bernoulli_mixture import BernoulliMixture
from .censored import Censored
from .coins import Coins
from .factor_analysis import FactorAnalysis
from .gmm1d import GMM1D
from .gmm2d import GMM2D
from .hmm import HMM
from .linkage import Linkage
from .mvn_missing import MVNMissing
from .regression_mixture import RegressionMixture
from .student_t import StudentT
from .two_source import TwoSource

MODELS: dict[str, type[Model]] = {cls.name: cls for cls in (Linkage, Coins, GMM1D, GMM2D, TwoSource, FactorAnalysis,
                                                            Censored, StudentT, MVNMissing, HMM,
                                                            BernoulliMixture, RegressionMixture)}


def available_models() -> dict[str, type[Model]]:
    """The built-in models and those installed packages declare (entry point group explorer.models)."""
    return {**entry_point_models(), **MODELS}


def model_class(name: str) -> type[Model]:
    """A built-in or installed model by name, or a user's class: path/to/file.py:Class or module:Class."""
    if name in MODELS:
        return MODELS[name]
    if is_model_spec(name):
        return load_model_class(name)
    installed = entry_point_models()
    if name in installed:
        return installed[name]
    raise ExplorerError(f"unknown model {name!r} (models: {', '.join({**installed, **MODELS})}; "
                        f"or path/to/file.py:ClassName)")


def make_model(name_or_class, data: str | None = None, data_file=None, *, synthetic: dict | None = None,
               **options) -> Model:
    """A model bound to data: a built-in data set by name, a CSV/.npy file, or synthetic data
    (`synthetic={"n": 500, "seed": 0, "separation": 3}`); with none of them, the default set."""
    cls = model_class(name_or_class) if isinstance(name_or_class, str) else name_or_class
    refuse_incomplete(cls)            # what the class misses, before its data are made with it
    options = cls.parse_options(options)
    if sum(x is not None for x in (data, data_file, synthetic)) > 1:
        raise ExplorerError("give at most one of a data set name, a data file, or synthetic data")
    if data_file is not None:
        header, values = read_table(data_file, missing_ok=cls.accepts_missing)
        values = cls.data_from_table(header, values, **options)
    elif synthetic is not None:
        values = cls.synthetic(**synthetic, **options)
    elif data is None and cls.default_dataset is None:
        try:
            values = cls.synthetic(n=300, seed=0, **options)
        except (ExplorerError, NotImplementedError):
            raise ExplorerError(f"model {cls.name} has no built-in or synthetic data: give a data file") from None
    else:
        name = data or cls.default_dataset
        if name not in cls.datasets:
            raise ExplorerError(f"model {cls.name} has no data set {name!r} "
                                f"(data sets: {', '.join(cls.datasets) or 'none'})")
        values = cls.load_dataset(name, **options)
    return cls(values, **options)


__all__ = ["MODELS", "available_models", "model_class", "make_model"]
