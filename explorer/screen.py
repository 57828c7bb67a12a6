"""`Screen`: every setting that defines what is on screen, as a value, and the one codec for it.

A screen is written in the words of the app's URL, `?model=gmm1d&K=2&steps=EM12E&at=25`: the
settings that differ from the defaults, the half steps taken (`steps`, "EM" twelve times then
E) and the timeline position (`at`). The app's address, lessons, presets, standalone pages and
the CLI's `--screen` all speak it through this module, and nowhere else:

    Screen.read(query)   → (Screen, notes on what could not be read)
    screen.query()       → the URL words again (read(screen.query()) gives the same screen)
    screen.session()     → the library's Session of that screen (the CLI, a notebook)

Reading checks the form of each value (a whole number, 0 or 1, a list); whether a value fits a
model (K within its range, a data set it has) is the builder's business, which knows the model.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from .core.errors import ExplorerError

MAX_STEPS = 20_000      # the most half steps a link may ask a session to replay
SYNTHETIC = "synthetic"     # the data set simulated from the model (n, dseed, sep)


@dataclass(frozen=True)
class Setting:
    """One setting of a screen: its name in the app, its word in the URL, the type of its value
    (bool, int, float, str or list), and its group (model: the model and data; session: the
    start and the algorithm; view: how the screen is drawn; room: how this viewer likes it
    drawn, never part of a lesson's or a preset's screen)."""
    name: str
    key: str
    kind: type
    group: str
    default: object = None


SETTINGS = (
    Setting("model_name", "model", str, "model", "linkage"),
    Setting("dataset", "data", str, "model"),
    Setting("option", "K", int, "model", 2),
    Setting("n_points", "n", int, "model", 300),
    Setting("data_seed", "dseed", int, "model", 0),
    Setting("separation", "sep", float, "model", 3.0),
    Setting("family", "family", str, "session", "exact"),
    Setting("schedule", "schedule", str, "session", "em"),
    Setting("step_size", "eta", float, "session", 0.2),
    Setting("block_size", "B", int, "session", 20),
    Setting("block_order", "order", str, "session", "cyclic"),
    Setting("seed", "seed", int, "session", 0),
    Setting("theta0", "theta0", str, "session", ""),
    Setting("frozen", "frozen", list, "session", ()),
    Setting("coordinate", "coord", str, "view"),
    Setting("grid_size", "grid", int, "view", 40),
    Setting("zoom", "zoom", bool, "view", True),
    Setting("trace_axis", "x", str, "view", "half step"),
    Setting("scale", "scale", int, "room", 100),
    Setting("speed", "speed", float, "room", 2.0),
    Setting("presenter", "presenter", bool, "room", False),
    Setting("shown", "show", list, "room", ("bound", "landscape", "readout")),
    Setting("svg", "svg", bool, "room", False),
)
BY_NAME = MappingProxyType({s.name: s for s in SETTINGS})
BY_KEY = MappingProxyType({s.key: s for s in SETTINGS})
URL_KEYS = MappingProxyType({s.name: s.key for s in SETTINGS})


def names(*groups: str) -> tuple[str, ...]:
    """The settings of these groups, in the order they are applied (a later one may depend on
    an earlier: the data on the model, the schedule on the family)."""
    return tuple(s.name for s in SETTINGS if s.group in groups)


MODEL_SETTINGS = names("model")
SESSION_SETTINGS = names("session")
VIEW_SETTINGS = names("view", "room")
VIEW_KEYS = frozenset(URL_KEYS[n] for n in VIEW_SETTINGS)      # how a screen is drawn, not what it is
PLACE_KEYS = ("steps", "at")                                   # where in the run the screen is
PAGE_KEYS = ("lesson", "ls", "preset", "theme")                # what the page around the screen shows
# The words a lesson step's or a preset's screen may use: what the screen is and how it is drawn,
# not the viewer's own room (scale, speed, presenter layout, SVG).
AUTHORED_KEYS = frozenset(URL_KEYS[n] for n in names("model", "session", "view")) | set(PLACE_KEYS)
# What a lesson step's or preset's screen is for every setting it does not name: the app's defaults.
AUTHORED_DEFAULTS = MappingProxyType({"model": "linkage", "family": "exact", "schedule": "em", "theta0": "",
                                      "seed": "0"})
KIND_WORDS = {bool: "0 or 1", int: "a whole number", float: "a number"}


# ----- values as URL text ---------------------------------------------------------------------------
def to_text(value) -> str:
    """A setting's value as URL text (the inverse of `from_text`)."""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return repr(value)
    return "" if value is None else str(value)


def from_text(kind: type, text: str):
    """URL text as a value of `kind` (ValueError if it cannot be read as one)."""
    if kind is bool:
        if text not in ("0", "1", "true", "false"):
            raise ValueError(text)
        return text in ("1", "true")
    if kind is int:
        return int(text)
    if kind is float:
        value = float(text)
        if not np.isfinite(value):
            raise ValueError(text)
        return value
    if kind is list:
        return [item for item in text.split(",") if item]
    return text


def plain_query(query: dict | None) -> dict:
    """A URL's query as key → text: a key given twice is its last value (Bokeh's session_args
    give lists of bytes)."""
    query = {k: ((v[-1] if v else "") if isinstance(v, list) else v) for k, v in (query or {}).items()}
    return {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in query.items()}


def quoted(text: str, limit: int = 60) -> str:
    """A value from a link, quoted for a note (a long one cut, so the notes stay readable)."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


# ----- the half steps taken ---------------------------------------------------------------------------
STEP_RUN = re.compile(r"(M+|EM*)(\d*)")


def encode_steps(kinds: list[str]) -> str:
    """Half steps as runs of iterations: ["E","M","E","M","E"] → "EM2E". An iteration is an E
    step and the M steps after it (or M steps before any E step)."""
    units, out = re.findall(r"M+|EM*", "".join(kinds)), []
    i = 0
    while i < len(units):
        j = i
        while j < len(units) and units[j] == units[i]:
            j += 1
        out.append(units[i] + (str(j - i) if j - i > 1 else ""))
        i = j
    return "".join(out)


def step_runs(code: str) -> list[tuple[str, int]]:
    """"EM12E" → [("EM", 12), ("E", 1)]. Read run by run (greedy, no backtracking: the nested
    pattern ((M+|EM*)[0-9]*)* takes exponential time on "MMM…MX", 2 s for 24 Ms)."""
    runs, end = [], 0
    for match in STEP_RUN.finditer(code or ""):
        if match.start() != end:
            break
        runs.append((match.group(1), int(match.group(2)) if match.group(2) else 1))
        end = match.end()
    if end != len(code or ""):
        raise ExplorerError(f"cannot read {quoted(code, 40)}: write steps like EM12E")
    return runs


def count_steps(code: str) -> int:
    """How many half steps `code` asks for."""
    return sum(len(unit) * n for unit, n in step_runs(code))


def decode_steps(code: str, limit: int = MAX_STEPS) -> list[str]:
    """The half steps of `code`, the first `limit` of them."""
    kinds = []
    for unit, n in step_runs(code):
        kinds.extend(list(unit) * min(n, (limit - len(kinds)) // len(unit) + 1))
        if len(kinds) >= limit:
            return kinds[:limit]
    return kinds


# ----- the value ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Screen:
    """What is on screen: the settings named (setting name → value; the rest are the defaults
    of whoever shows it), the half steps taken from the start and the state shown, and the
    lesson step or preset around it."""
    settings: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    steps: str = ""
    at: str | None = None
    lesson: str = ""
    lesson_step: int | None = None      # 0-based; None: not named (the lesson's first)
    preset: str = ""
    said: MappingProxyType = field(default_factory=lambda: MappingProxyType({}), compare=False, repr=False)
    # how the link wrote each setting (name → "key='text'"), for a note that refuses it

    @classmethod
    def read(cls, query: dict, option_name: str | None = None, words=None) -> tuple["Screen", list[str]]:
        """A URL's query as a screen, and notes on the words that could not be read (each
        skipped; the rest still make the screen). `option_name` is the model's own word for
        its option (e.g. `K`), taken as the option's; `words(name)` names a setting in a note
        (the app: its label)."""
        words = words or setting_words
        query, notes, settings, said = plain_query(query), [], {}, {}
        for key, text in query.items():
            if key in PLACE_KEYS or key in PAGE_KEYS:
                continue
            setting = BY_KEY.get(key) or (BY_NAME["option"] if option_name and key == option_name else None)
            if setting is None:
                notes.append(f"{quoted(key)[1:-1]}= (ignored): not a setting of the app")
                continue
            try:
                settings[setting.name] = from_text(setting.kind, text)
                said[setting.name] = f"{key}={quoted(text)}"
            except (ValueError, TypeError):
                notes.append(f"{key}={quoted(text)} (ignored): {words(setting.name)} takes "
                             f"{KIND_WORDS.get(setting.kind, 'a number')}")
        step = query.get("ls")
        return cls(settings=MappingProxyType(settings), steps=query.get("steps", ""), at=query.get("at"),
                   lesson=query.get("lesson", ""), preset=query.get("preset", ""),
                   lesson_step=int(step) - 1 if step and step.isdigit() and int(step) >= 1 else None,
                   said=MappingProxyType(said)), notes

    def query(self) -> dict[str, str]:
        """The screen in URL words (lesson and step first, then the settings in their order)."""
        out = {"lesson": self.lesson, "ls": str((self.lesson_step or 0) + 1)} if self.lesson else {}
        if self.preset:
            out["preset"] = self.preset
        out.update({URL_KEYS[s.name]: to_text(self.settings[s.name]) for s in SETTINGS if s.name in self.settings})
        if self.steps:
            out["steps"] = self.steps
            if self.at is not None:
                out["at"] = str(self.at)
        return out

    def without_room(self) -> "Screen":
        """The screen without the viewer's own room settings (scale, speed, presenter layout):
        what a standalone page links back to."""
        return replace(self, settings=MappingProxyType(self.named("model", "session", "view")))

    def after(self, session) -> "Screen":
        """This screen with `session`'s half steps and position (a run taken further)."""
        steps = encode_steps([state.kind for state in session.history[1:]])
        return replace(self, steps=steps, at=str(session.position) if steps else None)

    def named(self, *groups: str) -> dict:
        """The settings named in these groups."""
        return {k: v for k, v in self.settings.items() if BY_NAME[k].group in groups}

    @classmethod
    def from_link(cls, link: str) -> "Screen":
        """A screen from a link as the page's address shows it (`http://…/explorer?model=…`) or
        its query alone (`model=gmm1d&K=2&steps=EM4`); ExplorerError naming each word that
        cannot be read. A link to a lesson step or a preset (and nothing else) is its screen."""
        from urllib.parse import parse_qs, urlsplit
        query = urlsplit(link).query if "?" in link else link
        screen, notes = cls.read(parse_qs(query, keep_blank_values=True), option_name="K")
        if notes:
            raise ExplorerError("the link's words: " + "; ".join(notes))
        return screen.resolved()

    def resolved(self) -> "Screen":
        """The screen a lesson step's or preset's link shows (its own words), or this one."""
        if self.settings or self.steps:
            return self
        if self.preset:
            from .presets import PRESETS
            if self.preset not in PRESETS:
                raise ExplorerError(f"no preset {self.preset!r} (presets: {', '.join(PRESETS)})")
            return Screen.read({**AUTHORED_DEFAULTS, **PRESETS[self.preset].screen}, option_name="K")[0]
        if self.lesson:
            from .lessons import load_lesson
            steps = load_lesson(self.lesson).steps
            step = min(self.lesson_step or 0, len(steps) - 1)
            return Screen.read({**AUTHORED_DEFAULTS, **steps[step].screen}, option_name="K")[0]
        return self

    def session(self, **session_options):
        """This screen as a library Session: its model and data, family, schedule, start and
        frozen parameters, with its steps taken and its position set (the CLI's --screen)."""
        from .core.schedules import SCHEDULES
        from .core.session import Session
        from .models import model_class
        values = {s.name: s.default for s in SETTINGS}
        values.update(self.settings)
        cls = model_class(values["model_name"])
        options = {cls.option_specs[0].name: values["option"]} if cls.option_specs and "option" in self.settings else {}
        model = model_of(cls, values, options)
        theta0 = start_values(values["theta0"], model)
        frozen = frozenset(values["frozen"]) if "frozen" in self.settings else None
        session = Session(model, theta0, family=values["family"], frozen=frozen, seed=values["seed"],
                          schedule=SCHEDULES[values["schedule"]].spell(values), **session_options)
        for kind in decode_steps(self.steps):
            session.e_step() if kind == "E" else session.m_step()
        if self.at is not None:
            session.go_to(int(self.at))
        return session


def model_of(cls, values: dict, options: dict):
    """The model of class `cls` on the data the settings `values` name: a built-in data set
    (None: the model's default) or `SYNTHETIC` data of n_points, data_seed and separation."""
    from .models import make_model
    if values["dataset"] == SYNTHETIC:
        return make_model(cls, synthetic={"n": values["n_points"], "seed": values["data_seed"],
                                          "separation": values["separation"]}, **options)
    return make_model(cls, data=values["dataset"], **options)


def start_values(text: str, model) -> dict | None:
    """θ⁰ from the typed JSON, or the model's reference start (or None: the seed's)."""
    from .core.model import parse_theta_json
    if text.strip():
        return parse_theta_json(text)
    return getattr(model, "reference_theta0", None)


def setting_words(name: str) -> str:
    """A setting's name as a note says it (its URL word)."""
    return BY_NAME[name].key if name in BY_NAME else name


def authored_screen(screen: dict, where: str) -> dict[str, str]:
    """A lesson step's or preset's screen checked for its words (keys of `AUTHORED_KEYS`,
    values text or numbers), as URL text; ExplorerError naming `where` and the word otherwise.
    Its values are checked when the screen is shown, as a link's are: one that does not fit is
    skipped with a note, and the rest of the lesson still opens."""
    for key, value in screen.items():
        if key not in AUTHORED_KEYS:
            raise ExplorerError(f"{where}: screen has an unknown key {key!r} (keys: {', '.join(sorted(AUTHORED_KEYS))})")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ExplorerError(f"{where}: screen value of {key!r} must be text or a number")
    return {k: str(v) for k, v in screen.items()}
