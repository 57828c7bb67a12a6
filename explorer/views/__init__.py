"""Bokeh plot builders: each view owns a figure and its data sources, is built once per model,
and `update(...)`s its sources in place on every step (no figure is rebuilt for a step).

Views get their numbers from the core; they compute nothing about the model themselves.
"""
from .bound import BoundView
from .registry import data_view_for
from .identity import IdentityView
from .landscape import LandscapeView
from .trace import TraceView

__all__ = ["BoundView", "IdentityView", "LandscapeView", "TraceView", "data_view_for"]
