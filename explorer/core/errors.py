"""The exception types a user meets.

Everything a user can get wrong in their input raises `ExplorerError` with a one-line message
that names the field and the rule broken. The CLI prints that line and exits with status 2;
the app shows it in its message area.

`UserCodeError` is a failure of a user's own model code (raised while being loaded or run, or
a value it returned that cannot be right, `ModelValueError`): the CLI exits with status 3, the
app shows it with the user's frames only. Any other exception is a bug (ours, or in a custom
model's code).
"""
from __future__ import annotations

import json

import numpy as np


class ExplorerError(ValueError):
    """A user error with a message meant to be read by a person."""


class UserCodeError(Exception):
    """User code raised while being loaded or run; `details` is its traceback, user frames only."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


class ModelValueError(UserCodeError):
    """A model's method returned a value that cannot be right (NaN, +∞, an invalid θ): the
    message names the method and the θ it was called with."""

    def __init__(self, method: str, what: str, theta: dict | None = None):
        self.method = method
        at = "" if theta is None else f" at θ = {theta_text(theta)}"
        super().__init__(f"{method} {what}{at}")


def theta_text(theta: dict, limit: int = 300) -> str:
    """θ as short JSON for a message (NaN and ∞ written as such)."""
    try:
        text = json.dumps({k: np.asarray(v, dtype=float).tolist() for k, v in theta.items()})
    except (TypeError, ValueError, AttributeError):
        text = repr(theta)
    return text if len(text) <= limit else text[:limit] + "…"
