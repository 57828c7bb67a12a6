"""Where the model on screen comes from: the built-in models, a user's class or instance, an
uploaded file, and the second implementations a model can be held against.

`ModelSources` knows the models a page offers and makes one from the settings; it changes
nothing on screen (the state builds the screen from what it makes).
"""
from __future__ import annotations

import numpy as np

from ..core.errors import ExplorerError
from ..core.loading import is_model_spec, load_model_class
from ..core.model import Model
from ..datasets import table_from_bytes
from ..models import available_models
from ..screen import model_of
from .budget import MAX_POINTS, SYNTHETIC

UPLOADED = "uploaded CSV"
GIVEN = "(given)"
MORE_OPTIONS = "The page sets the option"
MAX_UPLOAD_BYTES = 10 * 2**20   # the default upload limit (`--args --max-upload-mb`): under the websocket's 20 MB


class ModelSources:
    """The models a page offers (`models`: name → class), a user's model instance bound to its
    data (`custom`: the only model then), the last upload (`uploaded`: (filename, header,
    table)) and the second implementations given on the server's command line
    (`against_models`)."""

    def __init__(self, model=None, data=None, max_upload_bytes: int = MAX_UPLOAD_BYTES):
        """model: a built-in's name, a user's class or `path/to/file.py:Class`, or a model
        instance (bound to its data); data: data for a class, or new data for an instance."""
        self.max_upload_bytes = int(max_upload_bytes)
        self.models = dict(available_models())
        self.custom = None
        self.uploaded = None
        self.against_models = {}
        if isinstance(model, str) and is_model_spec(model):
            model = load_model_class(model)
        if isinstance(model, type) and data is not None:
            model = model(data)
        if isinstance(model, type):
            self.models[model.name] = model
            model = model.name
        if isinstance(model, Model):
            self.custom = model if data is None else model.with_data(data)
            self.models = {self.custom.name: type(self.custom)}
            model = self.custom.name
        self.first = model or "linkage"     # the model a page opens with

    def datasets(self, cls, option) -> list[str]:
        """The data sets `cls` can show: its own, synthetic, and the upload if it fits."""
        if self.custom is not None:
            return [GIVEN]
        options = list(cls.datasets) + [SYNTHETIC]
        if self.uploaded is not None and self._fits(cls, {"option": option}):
            options.append(UPLOADED)
        return options

    def default_dataset(self, cls, datasets: list[str]) -> str:
        if self.custom is not None:
            return GIVEN
        return cls.default_dataset if cls.default_dataset in datasets else datasets[0]

    def _fits(self, cls, values) -> bool:
        try:
            self._uploaded_model(cls, values)
            return True
        except Exception:  # noqa: BLE001 - does not fit this model: not offered
            return False

    @staticmethod
    def _options(cls, values) -> dict:
        option = cls.option_specs[0] if cls.option_specs else None
        return {} if option is None else {option.name: values["option"]}

    def _uploaded_model(self, cls, values):
        _, header, table = self.uploaded
        return self.model_from_table(cls, values, header, table)

    def model_from_table(self, cls, values, header, table):
        options = self._options(cls, values)
        return cls(cls.data_from_table(header, table, **options), **options)

    def make(self, cls, values) -> Model:
        """The model of class `cls` on the data the settings `values` name."""
        if self.custom is not None:
            return self.custom
        if values["dataset"] == UPLOADED:
            return self._uploaded_model(cls, values)
        return model_of(cls, values, self._options(cls, values))

    def read_upload(self, cls, values, name: str, content: bytes | None):
        """A user's CSV or .npy file read and checked against model `cls` (as the CLI's
        --data-file reads it): (header, table), or ExplorerError saying why not."""
        if not content:
            raise ExplorerError(f"{name}: the file is empty")
        if len(content) > self.max_upload_bytes:
            raise ExplorerError(f"{name}: {len(content) / 2**20:.1f} MB is over the "
                                f"{self.max_upload_bytes / 2**20:.1f} MB limit for uploads on this server")
        header, table = table_from_bytes(content, name, missing_ok=cls.accepts_missing)
        if len(table) > MAX_POINTS:
            raise ExplorerError(f"{name}: {len(table):,} rows is more than the {MAX_POINTS:,} a session "
                                f"holds on this server (the command line takes more: python -m explorer "
                                f"trace --data-file)")
        self.model_from_table(cls, values, header, table)          # the model accepts it
        return header, table

    def second_implementations(self, model) -> list[str]:
        """The models that can be held against `model`: the same parameters (names and shapes)
        on the same data (the built-in models, and any given with `--args --against`)."""
        built_in = set(available_models().values())
        if type(model) in built_in and not self.against_models:
            return []           # two built-ins agree (their tests say so): nothing to look at here
        spec = [(p.name, tuple(p.shape)) for p in model.params()]
        found = []
        for name, cls in {**available_models(), **self.against_models}.items():
            if cls is type(model):
                continue
            try:
                other = cls(np.asarray(model.data))
                if [(p.name, tuple(p.shape)) for p in other.params()] == spec:
                    found.append(name)
            except Exception:  # noqa: BLE001 - a model that cannot take these data is not offered
                continue
        return found

    def implementation(self, name: str):
        """The class of a second implementation by its name, or None."""
        return {**available_models(), **self.against_models}.get(name)


def options_not_set(model) -> list[str]:
    """Said, not silent: the page sets a model's first option only (every built-in model
    declares at most one); a model that declares more keeps their values (a note, or none)."""
    specs = model.option_specs[1:]
    if not specs:
        return []
    kept = ", ".join(f"{o.name} = {model.options.get(o.name, o.default)}" for o in specs)
    return [f"{MORE_OPTIONS} {model.option_specs[0].name}; model {model.name} also declares {kept}, kept as "
            f"they are (the command line's --option sets every option)"]
