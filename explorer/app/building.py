"""A screen built from the settings, completely, before anything is swapped in.

`plan(state, changes)` makes the model (if its settings changed) and a new session from the
state's settings with `changes` applied, and the choices each setting offers with them; it
raises before touching anything if the settings do not work together (the state then keeps
what it shows, and says why).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import ExplorerError
from ..core.families import FAMILIES, families_for, get_family
from ..core.model import Model, coordinates, first_coordinate
from ..core.schedules import schedules_for, why_not
from ..core.session import Session
from ..screen import MODEL_SETTINGS, SESSION_SETTINGS, VIEW_SETTINGS, start_values
from . import budget
from .budget import APP_HISTORY_BUDGET, SYNTHETIC, data_points
from .settings import schedule_text


@dataclass
class Plan:
    values: dict             # every model and session setting, and the coordinate, as built
    model: Model
    session: Session
    model_changed: bool
    datasets: list           # the choices the settings offer with this model
    families: list
    frozen_options: list
    coordinates: list
    option: object           # the model's option spec, or None


def plan(state, changes: dict, first: bool = False) -> Plan:
    values = {name: getattr(state, name) for name in MODEL_SETTINGS + SESSION_SETTINGS + ("coordinate",)}
    values.update(changes)
    model_changed = first or any(name in changes for name in MODEL_SETTINGS)
    cls = state.sources.models[values["model_name"]]     # the values' ranges are checked before (why_refused)
    new_model_class = first or cls is not type(state.model)
    datasets = state.sources.datasets(cls, state.option)
    if new_model_class and "dataset" not in changes:
        values["dataset"] = state.sources.default_dataset(cls, datasets)
    if values["dataset"] not in datasets:
        raise ExplorerError(f"model {cls.name} has no data set {values['dataset']!r} "
                            f"(data sets: {', '.join(datasets)})")
    option = cls.option_specs[0] if cls.option_specs else None
    if option is not None and new_model_class and "option" not in changes:
        values["option"] = option.default
    if model_changed and values["dataset"] == SYNTHETIC:      # before any memory is taken
        budget.LARGE_SESSIONS.admit(state, values["n_points"])
    model = state.sources.make(cls, values) if model_changed else state.model
    if model_changed:
        budget.LARGE_SESSIONS.admit(state, data_points(model))
    families = families_for(model)
    if values["family"] not in families:
        if "family" in changes and not first:
            others = [f for f in FAMILIES if f not in families]
            raise ExplorerError(f"family {values['family']!r} is not available for model {model.name} "
                                f"(its families: {', '.join(families)}; not for it: {', '.join(others)})")
        values["family"] = "exact"
    family = get_family(values["family"], model)
    if values["schedule"] not in schedules_for(model, family):
        if "schedule" in changes and not first:
            raise ExplorerError(why_not(values["schedule"], model, family))
        values["schedule"] = "em"
    frozen_options = list(model.spec()) + [k for k in coordinates(model.params())
                                           if k.split("[")[0] in model.entry_freezing]
    if new_model_class and "frozen" not in changes:
        values["frozen"] = sorted(model.default_frozen())
    unknown = [f for f in values["frozen"] if f not in frozen_options]
    if unknown:
        raise ExplorerError(f"cannot freeze {unknown[0]!r}: model {model.name} has "
                            f"{', '.join(frozen_options)}")
    if new_model_class and "theta0" not in changes:
        values["theta0"] = ""
    session = Session(model, start_values(values["theta0"], model), family=family.name,
                      frozen=frozenset(values["frozen"]), seed=values["seed"], schedule=schedule_text(values),
                      history_budget=APP_HISTORY_BUDGET)
    keys = coordinates(model.params())
    if values["coordinate"] not in keys:
        values["coordinate"] = first_coordinate(model, session.frozen)
    return Plan(values, model, session, model_changed, datasets, families, frozen_options, keys, option)


# A screen built aside: what `adopt` takes of it (the choices each setting offers, and the
# objects beside the settings).
CHOICES = ("model_name", "dataset", "family", "frozen", "coordinate", "lesson_name")
ADOPTED = ("sources", "model", "session", "activity")


def adopt(state, other):
    """`state` takes the screen of `other` (built off the event loop, e.g. from a heavy link):
    its models, settings, session, parts' results and picture, as new figures, in one change."""
    with state.quiet():
        for name in CHOICES:
            state.param[name].objects = list(other.param[name].objects)
        state.param.option.bounds, state.param.option.label = other.param.option.bounds, other.param.option.label
        names = MODEL_SETTINGS + SESSION_SETTINGS + VIEW_SETTINGS + ("lesson_name", "lesson_step", "preset_name")
        state.param.update(**{n: getattr(other, n) for n in names if getattr(state, n) != getattr(other, n)})
    for name in ADOPTED:
        setattr(state, name, getattr(other, name))
    for part, kept in ((state.analyses, other.analyses), (state.player, other.player), (state.drawing, other.drawing)):
        part.__dict__.update({k: v for k, v in vars(kept).items() if k != "state"})
    budget.LARGE_SESSIONS.transfer(other, state)
    state.notes, state.details, state.message = other.notes, other.details, other.message
    state.model_revision += 1
    state.revision += 1              # the picture stays: it was drawn off the loop
