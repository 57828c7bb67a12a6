"""Lessons: a path through the argument of the variational view, one short step at a time.

A lesson is data, one JSON file per lesson in this folder (or anywhere, given by its path):

    {"title": "...", "steps": [
        {"title": "The E step closes the gap",
         "caption": "Two to four sentences on what the screen shows.",
         "formula": "KL(q ‖ p(Z | X, θ)) = 0",
         "screen": {"model": "linkage", "theta0": "{\\"theta\\": 0.5}", "steps": "E"}}]}

`formula` is text (HTML's <sub> and <sup> allowed), `caption` plain text. `screen` is what a
step sets up, in the words of the app's URL (model, data, K, family, schedule, theta0, seed,
coord, ... and `steps`, the half steps to take from the start, as "EM4E"); everything it does
not name is the app's default. A teacher writes a lesson by copying
a file here and editing it; `load_lesson` checks it and names the step and field of any mistake.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..core.errors import ExplorerError
from ..screen import authored_screen

STEP_FIELDS = {"title": str, "caption": str, "formula": str, "screen": dict}
REQUIRED = ("title", "caption", "screen")


@dataclass(frozen=True)
class LessonStep:
    title: str
    caption: str
    formula: str
    screen: dict


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    steps: tuple[LessonStep, ...]


LESSON_DIRS: list[Path] = []    # folders of a teacher's own lessons (the server's --lessons DIR)


def add_lesson_dir(folder) -> None:
    """Offer the lessons (*.json) in `folder` beside the built-in ones."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ExplorerError(f"lessons folder {str(folder)!r} is not a folder")
    if folder not in LESSON_DIRS:
        LESSON_DIRS.append(folder)


def _lesson_files() -> dict:
    files = {p.name[:-5]: p for p in resources.files(__package__).iterdir() if p.name.endswith(".json")}
    for folder in LESSON_DIRS:
        files.update({p.stem: p for p in sorted(folder.glob("*.json"))})
    return files


def available_lessons() -> list[str]:
    """The names of the lessons (their files' names without .json): built in, and in LESSON_DIRS."""
    return sorted(_lesson_files())


def load_lesson(name_or_path: str) -> Lesson:
    """A lesson by name, or a lesson file by its path, checked."""
    path = Path(name_or_path)
    files = _lesson_files()
    if name_or_path in files:
        text, name = files[name_or_path].read_text(), name_or_path
    elif path.suffix == ".json" and path.is_file():
        text, name = path.read_text(), path.stem
    else:
        raise ExplorerError(f"no lesson {name_or_path!r} (lessons: {', '.join(available_lessons())}, "
                            f"or the path of a .json file)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExplorerError(f"lesson {name}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    return parse_lesson(name, data)


def parse_lesson(name: str, data) -> Lesson:
    if not isinstance(data, dict) or not isinstance(data.get("title"), str):
        raise ExplorerError(f"lesson {name}: must be an object with a \"title\" and \"steps\"")
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ExplorerError(f"lesson {name}: \"steps\" must be a non-empty list")
    out = []
    for number, step in enumerate(steps, start=1):
        where = f"lesson {name}, step {number}"
        if not isinstance(step, dict):
            raise ExplorerError(f"{where}: must be an object with {', '.join(REQUIRED)}")
        for field in REQUIRED:
            if field not in step:
                raise ExplorerError(f"{where}: the field {field!r} is missing")
        for field, value in step.items():
            if field not in STEP_FIELDS:
                raise ExplorerError(f"{where}: unknown field {field!r} (fields: {', '.join(STEP_FIELDS)})")
            if not isinstance(value, STEP_FIELDS[field]):
                raise ExplorerError(f"{where}: the field {field!r} must be {STEP_FIELDS[field].__name__}")
        out.append(LessonStep(step["title"], step["caption"], step.get("formula", ""),
                              authored_screen(step["screen"], where)))
    return Lesson(name, data["title"], tuple(out))


__all__ = ["Lesson", "LessonStep", "add_lesson_dir", "available_lessons", "load_lesson", "parse_lesson"]
