"""The settings a user can change, as param parameters the widgets bind to, and their checks.

`Settings` declares them (their URL words, kinds and defaults are `explorer.screen`'s); the
state that composes the app (`ExplorerState`) is a `Settings` with the model, session and parts
added. A number's range is checked here, in words (`why_refused`), not by param: a typed value
out of range reaches the state, which refuses it and sets the box back to the session's value.
"""
from __future__ import annotations

import re

import param

from ..core.families import FAMILIES
from ..core.model import coordinates
from ..core.restarts import MAX_STARTS
from ..core.schedules import SCHEDULE_NAMES, SCHEDULES
from ..lessons import available_lessons
from ..presets import PRESETS
from ..screen import BY_NAME, quoted
from .budget import MAX_POINTS, data_points

PLOT_NAMES = ("data", "bound", "landscape", "trace", "identity", "readout")


class _Refusable:
    """A number whose range the state checks (`why_refused`), not param: param's own check
    raised in the widget's callback, and the box kept the typed value while the session kept
    the old one, without a word."""

    def _validate_bounds(self, val, bounds, inclusive_bounds):
        return None


class RangedInteger(_Refusable, param.Integer):
    """An integer setting with a range the state checks."""


class RangedNumber(_Refusable, param.Number):
    """A number setting with a range the state checks."""


def default(name: str):
    """A setting's default: the screen's (`explorer.screen.SETTINGS`)."""
    value = BY_NAME[name].default
    return list(value) if isinstance(value, tuple) else value


class Settings(param.Parameterized):
    model_name = param.Selector(default=default("model_name"), objects=["linkage"], label="Model")
    dataset = param.Selector(default=None, objects=[], label="Data")
    option = RangedInteger(default=default("option"), bounds=(1, 8), label="Model option")
    n_points = RangedInteger(default=default("n_points"), bounds=(10, MAX_POINTS),
                             label=f"Synthetic N (10 to {MAX_POINTS:,})")
    data_seed = RangedInteger(default=default("data_seed"), bounds=(0, None), label="Synthetic data seed")
    separation = RangedNumber(default=default("separation"), bounds=(0.0, 10.0), step=0.5,
                              label="Synthetic separation")
    family = param.Selector(default=default("family"), objects=list(FAMILIES), label="Family of q")
    schedule = param.Selector(default=default("schedule"), objects=list(SCHEDULE_NAMES), label="Schedule")
    step_size = RangedNumber(default=default("step_size"), bounds=(1e-6, 100.0),
                             label="Gradient step size η (10⁻⁶ to 100)")
    block_size = RangedInteger(default=default("block_size"), bounds=(1, 1_000_000),
                               label="Incremental block size B (1 to N)")
    block_order = param.Selector(default=default("block_order"), objects=["cyclic", "random"], label="Block order")
    seed = RangedInteger(default=default("seed"), bounds=(0, 2**31 - 1), label="Initial θ seed (0 to 2³¹ − 1)")
    theta0 = param.String(default=default("theta0"), label="Initial θ (JSON, any subset of keys)")
    frozen = param.ListSelector(default=default("frozen"), objects=[], label="Frozen parameters")
    coordinate = param.Selector(default=None, objects=[], label="θ coordinate in the plots")
    grid_size = RangedInteger(default=default("grid_size"), bounds=(10, 120), label="Landscape grid points")
    zoom = param.Boolean(default=default("zoom"), label="Zoom to the path")
    trace_axis = param.Selector(default=default("trace_axis"), objects=["half step", "passes through the data"],
                                label="Trace against")
    compared = param.ListSelector(default=["em", "incremental"], objects=list(SCHEDULE_NAMES),
                                  label="Schedules to compare")
    scale = param.Integer(default=default("scale"), bounds=(100, 200), step=10, label="Text and plot scale (%)")
    svg = param.Boolean(default=default("svg"), label="Draw the plots as SVG (each plot's save button then writes SVG, "
                                             "not PNG)")
    speed = param.Number(default=default("speed"), bounds=(0.5, 10.0), step=0.5, label="Play speed (half steps/s)")
    presenter = param.Boolean(default=default("presenter"),
                              label="Presenter layout (key f): sidebar folded, the chosen plots large")
    shown = param.ListSelector(default=default("shown"), objects=list(PLOT_NAMES), label="Plots in the presenter layout")
    restart_count = RangedInteger(default=20, bounds=(1, MAX_STARTS), label="Starts (R)")
    preset_name = param.Selector(default="", objects=[""] + list(PRESETS), label="Preset (the literature)")
    lesson_name = param.Selector(default="", objects=[""] + available_lessons(), label="Lesson")
    lesson_step = param.Integer(default=0, bounds=(0, None), doc="The lesson step on screen (0 = the first).")

    def why_refused(self, name: str, value, cls=None) -> str:
        """Why setting `name` cannot take `value` (in the words of its label), or '' if it can:
        a number outside its range, or a choice that is not one of the choices. The ranges and
        choices that depend on the model are those of `cls` (the model being opened; default:
        the one on screen, `self.model`); the data set and frozen parameters are checked when
        the screen is built."""
        model = getattr(self, "model", None)
        cls = cls or type(model)
        parameter = self.param[name]
        label = setting_label(self, name)
        if isinstance(parameter, param.Number):
            low, high = parameter.bounds or (None, None)
            if name == "option":
                if not cls.option_specs:
                    return f"model {cls.name} has no option to set"
                spec = cls.option_specs[0]
                low, high, label = spec.minimum, spec.maximum, f"{spec.name} ({spec.help})"
            if name == "block_size":
                high = data_points(model) or high
            if isinstance(parameter, param.Integer) and value != int(value):
                return f"{label} is a whole number"
            if (low is not None and value < low) or (high is not None and value > high):
                return (f"{label} is from {number_text(low)} to "
                        f"{number_text(high) if high is not None else 'any number'}")
            return ""
        if name in ("dataset", "frozen") or not isinstance(parameter, (param.Selector, param.ListSelector)):
            return ""
        choices = (list(FAMILIES) if name == "family" else
                   coordinates(model.params()) if name == "coordinate" else list(parameter.objects))
        values = value if isinstance(parameter, param.ListSelector) else [value]
        unknown = [v for v in values if v not in choices]
        if unknown:
            return f"{quoted(str(unknown[0]))} is not a choice of {label} (choices: {', '.join(map(str, choices))})"
        return ""

    def refusable(self, name: str) -> bool:
        """Whether `name`'s range is checked by `why_refused` (a number with a range)."""
        return isinstance(self.param[name], _Refusable)


def number_text(value) -> str:
    """A number as a user reads it: 200,000; 1e-06; 2.5."""
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def setting_label(state, name: str) -> str:
    """A setting's label as the page shows it, without the range it may carry in parentheses."""
    return re.sub(r"\s*\([^()]*\d[^()]*\)$", "", state.param[name].label or name)


def schedule_text(values: dict, name: str | None = None) -> str:
    """The schedule string of core.schedules from the app's settings."""
    return SCHEDULES[name or values["schedule"]].spell(values)
