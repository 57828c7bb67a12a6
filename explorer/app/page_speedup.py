"""Three cuts to Bokeh's work on a page's models, each giving the values Bokeh's own code gives.

**Serialisation.** Bokeh serialises a model (the page's first message, every model added later)
with `HasProps.query_properties_with_values(include_defaults=False)`. That reads the value of
every property and then keeps only those set, themed or with an unstable default. Reading an
unset property computes its default (a theme lookup, for a container a fresh copy), so most of
the work is thrown away: 90 of the 120 ms that a page's serialisation took (bokeh 3.9).
`serialise_set_values_only()` reads the kept values only, and still raises Bokeh's error for a
property that has no default and was never set. What reaches the page is the same:
`tests/test_page_speedup.py` compares the page of every model, serialised both ways.

**Defaults.** A property never set reads its default, which Bokeh works out afresh at each read:
the class's overridden defaults (a walk of its class hierarchy), a copy, a validation. Walking a
page's models (to find its references, its style sheets, its document) reads every default of
every model, again and again: 180,000 reads a page open. `remember_class_defaults()` keeps, per
class and property, the default once worked out where it depends on the class alone (no theme
value for it on the object, a stable default) and cannot be changed in place (None, a number, a
string), and whether the default is made afresh for each object (an Instance, a list). The tests
compare every default of every model of every page with Bokeh's.

**Walks.** Bokeh finds the models a page refers to by walking them from its roots, reading every
property that may hold a model (31 walks of a page's 450 models a page open: when its roots
join the document, when Panel styles them and takes them from another document). Most of those
properties are unset or hold a default made for the object; the descriptor's read of each
(its theme, its default) was 65 of the page's 470 ms in-process. `walk_references_quickly()`
reads a set value or a made default from the object's own dictionaries and skips a default
remembered as None, a number or a text, which holds no model (33–52 ms a page). The tests
compare the models found, their order, and the defaults made, with Bokeh's walk.

The caches are module-level state, which the house rules keep out of sessions: they hold facts
about Bokeh's classes (a class's defaults, which of its properties have none), the same for every
session, never a session's objects, and they stop growing once every class of a page was seen
(1,500 entries after pages of every model).

A linkage page built and serialised in-process, median of 7: 715 ms with Bokeh as it is, 595
with the serialisation's cut, 520 with both; with the walks' cut 435 against 480 without it
(median of 7, in one session of measurements).
"""
from __future__ import annotations

import bokeh.model.util as _bokeh_model_util
from bokeh.core.has_props import HasProps
from bokeh.core.property.descriptors import AliasPropertyDescriptor, PropertyDescriptor
from bokeh.core.property.singletons import Undefined
from bokeh.core.property.wrappers import PropertyValueContainer

_bokeh_query = HasProps.query_properties_with_values
_bokeh_instance_default = PropertyDescriptor.instance_default
_bokeh_has_unstable_default = PropertyDescriptor.has_unstable_default


def _set_values_only(self, query, *, include_defaults=True, include_undefined=False):
    """Bokeh's own result for `include_defaults=False`, without reading the values it drops."""
    if include_defaults or include_undefined:
        return _bokeh_query(self, query, include_defaults=include_defaults, include_undefined=include_undefined)
    themed = self.themed_values()
    themed_keys = set(themed) if themed is not None else set()
    kept = set(self._property_values) | set(self._unstable_default_values) | themed_keys
    for key in _required(type(self)):       # never set: Bokeh's own error, as its loop raises it
        if key not in kept and query(self.lookup(key)):
            self.lookup(key).get_value(self)
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


_required_of: dict = {}             # class → its properties without a default (Undefined)


def _required(cls) -> tuple:
    """The properties of `cls` that have no default (reading one never set raises), in Bokeh's
    order."""
    required = _required_of.get(cls)
    if required is None:
        overridden = cls._overridden_defaults()
        required = _required_of[cls] = tuple(
            name for name in cls.properties(_with_props=True)
            if not isinstance(cls.lookup(name), AliasPropertyDescriptor)
            and overridden.get(name, cls.lookup(name).property._default) is Undefined)
    return required


def serialise_set_values_only() -> None:
    HasProps.query_properties_with_values = _set_values_only


IMMUTABLE = (type(None), bool, int, float, str, type(Undefined))
_NOT_KEPT = object()
_class_defaults: dict = {}          # (class, property name) → its default, or _NOT_KEPT


def _remembered_instance_default(self, obj):
    """Bokeh's `PropertyDescriptor.instance_default(obj)`, kept per class where that is the same."""
    themed = obj.themed_values()
    if themed is not None and self.name in themed:
        return _bokeh_instance_default(self, obj)
    key = (type(obj), self.name)
    value = _class_defaults.get(key, _NOT_KEPT)
    if value is not _NOT_KEPT:
        return value
    value = _bokeh_instance_default(self, obj)
    if key not in _class_defaults:
        keep = type(value) in IMMUTABLE and not self.has_unstable_default(obj)
        _class_defaults[key] = value if keep else _NOT_KEPT
    return value


_unstable: dict = {}                # (class, property name) → whether its default is made afresh


def _remembered_has_unstable_default(self, obj) -> bool:
    """Bokeh's `has_unstable_default(obj)`: the property's kind and the class's overrides only."""
    key = (type(obj), self.name)
    unstable = _unstable.get(key)
    if unstable is None:
        unstable = _unstable[key] = _bokeh_has_unstable_default(self, obj)
    return unstable


def remember_class_defaults() -> None:
    PropertyDescriptor.instance_default = _remembered_instance_default
    PropertyDescriptor.has_unstable_default = _remembered_has_unstable_default


_bokeh_visit_references = _bokeh_model_util.visit_immediate_value_references
_refs_of: dict = {}                 # class → the names of its properties that may hold models


def _visit_references(value, visitor) -> None:
    """Bokeh's `visit_immediate_value_references`: the models `value`'s properties refer to,
    in Bokeh's order. A value set, or a default already made for this object, is read from the
    object's own dictionaries; a default remembered as None, a number or a string (which holds
    no model) is skipped; any other as Bokeh reads it (its theme's, or made if made afresh)."""
    if not isinstance(value, HasProps):
        return _bokeh_model_util.visit_value_and_its_immediate_references(value, visitor)
    cls = type(value)
    names = _refs_of.get(cls)
    if names is None:
        names = _refs_of[cls] = tuple(cls.properties_with_refs())
    values, made, themed = value._property_values, value._unstable_default_values, value.themed_values() or ()
    visit = _bokeh_model_util.visit_value_and_its_immediate_references
    for name in names:
        if name in values:
            visit(values[name], visitor)
        elif name in themed:
            visit(getattr(value, name), visitor)
        elif name in made:
            visit(made[name], visitor)
        elif _class_defaults.get((cls, name), _NOT_KEPT) is _NOT_KEPT:
            visit(getattr(value, name), visitor)


def walk_references_quickly() -> None:
    _bokeh_model_util.visit_immediate_value_references = _visit_references
