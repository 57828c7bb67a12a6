"""How a number is written on the screen: one rule for the sentence, the numbers table, the
legends, the identity bar, the standalone page and the CLI's text (no Panel or Bokeh here).

The rule:
* A state's log p, F and KL are written with the same decimals (`identity_decimals`: three
  significant digits of KL, six of log p), F as log p − KL to those decimals, so that they
  subtract exactly as shown; a KL that is rounding (`core.readout.kl_shown`) is written 0.
  Wherever one of them appears (sentence, table, legend, bar), it is that text (`texts`).
* The state before, when a sentence names it ("F rose from a to b"), is written as its own
  table wrote it.
* Any other number (a change, a rate, θ) has 6 significant digits (`fmt`), scientific when tiny
  or huge. Every minus is a real minus (−).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from .core.readout import kl_shown, rounding

FIGURE_SPACE, PUNCTUATION_SPACE = "\u2007", "\u2008"     # as wide as a digit, as a decimal point


def fmt(value: float) -> str:
    """A number for the screen: 6 significant digits, scientific when tiny or huge, a real minus."""
    value = float(value)
    if not np.isfinite(value):
        return "−∞" if value < 0 else ("∞" if value > 0 else "NaN")
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        return f"{value:.3e}".replace("-", "−")
    text = f"{value:.4g}" if abs(value) < 1 else f"{value:.6g}"
    return text.replace("-", "−")


def short(value) -> str:
    """A value of θ (a number or an array, its first 12 entries) in `fmt`'s digits."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return fmt(float(array))
    return "[" + ", ".join(fmt(v) for v in array.ravel()[:12]) + (", …" if array.size > 12 else "") + "]"


def short_theta(theta) -> str:
    """θ in one line: "name = value; ..." (plain text: escape it for HTML)."""
    return "; ".join(f"{k} = {short(v)}" for k, v in theta.items())


def fixed(value: float, decimals: int) -> str:
    """`value` with `decimals` decimals and a real minus (−∞, ∞ and NaN as words)."""
    if not np.isfinite(value):
        return fmt(value)
    return f"{value:.{decimals}f}".replace("-", "−")


def identity_decimals(loglik: float, F: float, kl: float) -> int:
    """Decimals for log p, F and KL written side by side so that log p − F visibly equals KL:
    enough for three significant digits of KL (and six of log p), no more than a double holds
    at log p's size."""
    size = max(abs(v) for v in (loglik, F, 1.0) if np.isfinite(v))
    whole = int(np.floor(np.log10(size)))             # log p's digits before the point, less one
    base = max(0, 5 - whole)
    visible = np.isfinite(kl) and kl > rounding(loglik, F)      # below that, KL is rounding: 0
    need = int(np.ceil(-np.log10(kl))) + 2 if visible else base
    return int(min(max(base, need), max(0, 14 - whole)))


def identity_texts(loglik: float, F: float) -> tuple[str, str, str]:
    """log p, F and KL with the same decimals, F written as log p − KL to those decimals, so
    that the three subtract exactly on the screen. (Each rounded on its own, log p − F came out
    one unit off KL in the last digit about a third of the time: −31.8593 − (−31.9972) = 0.1379
    beside KL = 0.1380.) F's text is then within one unit of the last digit of F."""
    kl = kl_shown(loglik, F)
    decimals = identity_decimals(loglik, F, kl)
    if not (np.isfinite(loglik) and np.isfinite(F) and np.isfinite(kl)):
        return fixed(loglik, decimals), fixed(F, decimals), fixed(kl, decimals)
    logp_text, kl_text = Decimal(f"{loglik:.{decimals}f}"), Decimal(f"{kl:.{decimals}f}")
    return tuple(f"{v:.{decimals}f}".replace("-", "−") for v in (logp_text, logp_text - kl_text, kl_text))


@dataclass(frozen=True)
class Texts:
    """A state's log p, F and KL as every place on the screen writes them."""
    loglik: str
    F: str
    kl: str
    decimals: int


def texts(loglik: float, F: float) -> Texts:
    """The texts of a state's log p, F and KL (the module's rule); a KL of 0 (rounding) reads 0."""
    kl = kl_shown(loglik, F)
    logp_text, F_text, kl_text = identity_texts(loglik, F)
    return Texts(logp_text, F_text, "0" if kl == 0 else kl_text, identity_decimals(loglik, F, kl))


def texts_of(readout) -> Texts:
    """The texts of a `core.readout.Readout`."""
    return texts(readout.loglik, readout.F)


def in_legend(text: str, width: int = 12) -> str:
    """`text` padded to `width` characters with figure spaces (as wide as a digit), and a
    punctuation space (as wide as a point) where it has no decimal point: a legend whose label
    keeps its width is not laid out again when the number changes (KL 0 after an E step, 0.0277
    after an M step)."""
    if "." not in text:
        text += PUNCTUATION_SPACE
    return text + FIGURE_SPACE * max(0, width - len(text))
