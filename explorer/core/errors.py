"""The one exception type for user mistakes (bad data, bad θ, unknown names).

Everything a user can get wrong raises `ExplorerError` with a one-line message that names the
field and the rule broken. The CLI prints that line and exits non-zero; the app shows it in its
message area. Any other exception is a bug (ours, or in a custom model's code).
"""


class ExplorerError(ValueError):
    """A user error with a message meant to be read by a person."""
