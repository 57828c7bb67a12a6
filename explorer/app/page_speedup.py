"""Bokeh's serialisation of a model, without the values it throws away.

Bokeh serialises a model (the page's first message, every model added later)
with `HasProps.query_properties_with_values(include_defaults=False)`. That reads the value of
every property and then keeps only those set, themed or with an unstable default. Reading an
unset property computes its default (a theme lookup, for a container a fresh copy), so most of
the work is thrown away: 90 of the 120 ms that a page's serialisation took (bokeh 3.9).
`serialise_set_values_only()` reads the kept values only. What reaches the page is the same:
`tests/test_page_speedup.py` compares the page of every model, serialised both ways.
"""
from __future__ import annotations

from bokeh.core.has_props import HasProps
from bokeh.core.property.wrappers import PropertyValueContainer

_bokeh_query = HasProps.query_properties_with_values


def _set_values_only(self, query, *, include_defaults=True, include_undefined=False):
    """Bokeh's own result for `include_defaults=False`, without reading the values it drops."""
    if include_defaults or include_undefined:
        return _bokeh_query(self, query, include_defaults=include_defaults, include_undefined=include_undefined)
    themed = self.themed_values()
    themed_keys = set(themed) if themed is not None else set()
    kept = set(self._property_values) | set(self._unstable_default_values) | themed_keys
    result = {}
    for key in self.properties(_with_props=True):        # Bokeh's order
        if key not in kept:
            continue
        descriptor = self.lookup(key)
        if not query(descriptor):
            continue
        value = descriptor.get_value(self)
        if (key not in themed_keys and isinstance(value, PropertyValueContainer)
                and key in self._unstable_default_values):
            continue                                      # an unchanged container default
        result[key] = value
    return result


def serialise_set_values_only() -> None:
    HasProps.query_properties_with_values = _set_values_only

