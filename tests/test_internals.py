"""Guards for the private Panel, Bokeh and Tornado internals the app uses. Each test names the
internal, the module of ours that relies on it, and what to re-check when it fails: a new
release of one of these libraries then fails here, loudly, instead of changing the app quietly.
pyproject.toml bounds the versions to those tested (panel 1.9, bokeh 3.9, tornado 6.x)."""
import hashlib
import inspect
import re

import panel as pn
import pytest
import tornado.netutil
from bokeh.core.serialization import Serializer
from bokeh.server.connection import ServerConnection
from bokeh.server.contexts import BokehSessionContext
from bokeh.server.session import ServerSession
from panel.reactive import Reactive
from panel.theme.fast import Fast

from explorer.app.page_speedup import _bokeh_query
from explorer.app.panel_speedup import _panel_update_properties
from explorer.views.base import Numbers


def code(function) -> str:
    """A function's source without its comments and with its white space normalised."""
    text = inspect.getsource(function)
    text = re.sub(r"#.*", "", text)
    return re.sub(r"\s+", " ", text).strip()


def changed(internal: str, ours: str, what: str) -> str:
    return (f"{internal} changed in this version: {ours} relies on it ({what}). Re-check {ours} against "
            f"the new code, then update this guard (and the version bound in pyproject.toml).")


def test_panel_update_properties_uses_the_design_only_for_stylesheets():
    """panel_speedup.skip_unused_design_work skips the design's modifiers except for a change of
    stylesheets: right only while Panel uses them for nothing else."""
    expected = ("def _update_properties(self, *events: param.parameterized.Event, doc: Document) -> dict[str, t.Any]: "
                "params, _ = self._design.params(self, doc) if self._design else ({}, None) "
                "changes = {event.name: event.new for event in events} "
                "if 'stylesheets' in changes and 'stylesheets' in params: "
                "changes['stylesheets'] = params['stylesheets'] + changes['stylesheets'] "
                "return self._process_param_change(changes)")
    assert code(_panel_update_properties) == expected, changed(
        "panel.reactive.Reactive._update_properties", "explorer/app/panel_speedup.py",
        "it computes the design's parameters and uses them only for stylesheets")
    assert callable(getattr(Reactive, "_process_param_change", None)), changed(
        "panel.reactive.Reactive._process_param_change", "explorer/app/panel_speedup.py", "called directly")


def test_panel_html_update_and_its_text_property():
    """panel_speedup.TextOnlyHTML overrides HTML._update(ref, model) and sends
    `_process_param_change({"object": ...})["text"]`."""
    assert list(inspect.signature(pn.pane.HTML._update).parameters) == ["self", "ref", "model"], changed(
        "panel.pane.HTML._update", "explorer/app/panel_speedup.py (TextOnlyHTML)", "overridden, signature (ref, model)")
    assert pn.pane.HTML("<b>x</b>")._process_param_change({"object": "<b>x</b>"}).get("text"), changed(
        "panel.pane.HTML._process_param_change", "explorer/app/panel_speedup.py (TextOnlyHTML)",
        "turns the object into the model's `text`")


def test_panel_button_click_path():
    """panel_speedup.QuickButton overrides Button._process_bokeh_event(doc, event) and does only
    the part of Button._process_event that runs on_click: `clicks += 1`."""
    assert list(inspect.signature(pn.widgets.Button._process_bokeh_event).parameters) == ["self", "doc", "event"], \
        changed("panel.widgets.Button._process_bokeh_event", "explorer/app/panel_speedup.py (QuickButton)",
                "overridden, signature (doc, event)")
    assert code(pn.widgets.Button._process_event).endswith("self.param.trigger('value') self.clicks += 1"), changed(
        "panel.widgets.Button._process_event", "explorer/app/panel_speedup.py (QuickButton)",
        "a click triggers `value` and counts `clicks`; QuickButton counts `clicks` only")


def test_the_fast_designs_resources_name_its_font():
    """app.OfflineFast copies Fast._resources without its "font" entry (no web font)."""
    assert isinstance(Fast._resources, dict) and "font" in Fast._resources, changed(
        "panel.theme.fast.Fast._resources", "explorer/app/app.py (OfflineFast)", "a dict whose 'font' is the web font")


def test_tornado_reads_its_default_backlog_each_time_it_accepts():
    """serving.accept_one_connection_per_wake sets tornado.netutil._DEFAULT_BACKLOG, which
    add_accept_handler reads at each wake as the number of connections to take."""
    assert isinstance(getattr(tornado.netutil, "_DEFAULT_BACKLOG", None), int), changed(
        "tornado.netutil._DEFAULT_BACKLOG", "explorer/app/serving.py", "an int")
    assert "_DEFAULT_BACKLOG" in inspect.getsource(tornado.netutil.add_accept_handler), changed(
        "tornado.netutil.add_accept_handler", "explorer/app/serving.py", "reads _DEFAULT_BACKLOG at each wake")


def test_bokehs_session_objects_that_closing_an_idle_page_reaches():
    """App._close_if_idle reads session_context._session, its _subscribed_connections and each
    connection's _socket (to close the websocket)."""
    for cls, attribute in ((BokehSessionContext, "self._session"), (ServerSession, "self._subscribed_connections"),
                           (ServerConnection, "self._socket")):
        assert attribute in inspect.getsource(cls.__init__), changed(
            f"{cls.__module__}.{cls.__name__}.{attribute[5:]}", "explorer/app/app.py (_close_if_idle)",
            "set in __init__")


@pytest.mark.parametrize("lists", [[[1.0, 2.5], [3.0]], []])
def test_bokehs_serializer_takes_numbers_as_they_are(lists):
    """views.base registers `Numbers` with Serializer.register, so Bokeh sends the lists as they are."""
    encoded = Serializer().encode(Numbers(lists))
    assert encoded == lists and type(encoded) is Numbers, changed(
        "bokeh.core.serialization.Serializer.register", "explorer/views/base.py (Numbers)",
        "a registered encoder's result is sent as it is")


def test_bokehs_query_of_set_values_is_the_one_page_speedup_repeats():
    """page_speedup._set_values_only repeats HasProps.query_properties_with_values for
    include_defaults=False without reading the values it drops; a new version of that function
    may keep other values (tests/test_page_speedup.py compares what pages receive)."""
    digest = hashlib.sha256(code(_bokeh_query).encode()).hexdigest()[:16]
    assert digest == "43efb1904a25ccbf", changed(
        "bokeh.core.has_props.HasProps.query_properties_with_values", "explorer/app/page_speedup.py",
        "which values it keeps for include_defaults=False")


def test_bokehs_property_defaults_are_what_page_speedup_remembers():
    """page_speedup._remembered_instance_default keeps PropertyDescriptor.instance_default per
    class: right while a default depends only on the class and the object's theme values, and
    _get_default asks instance_default for a default not set; has_unstable_default reads the
    property and the class's overridden defaults only."""
    from bokeh.core.property.descriptors import PropertyDescriptor
    from explorer.app.page_speedup import _bokeh_has_unstable_default, _bokeh_instance_default
    for function, digest in ((_bokeh_instance_default, "25686692a01ab181"),
                             (PropertyDescriptor._get_default, "b75473fd594b2f91"),
                             (_bokeh_has_unstable_default, "4087db84f40c7619")):
        assert hashlib.sha256(code(function).encode()).hexdigest()[:16] == digest, changed(
            f"bokeh.core.property.descriptors.PropertyDescriptor.{function.__name__}",
            "explorer/app/page_speedup.py", "a default from the class and the object's theme values only")


def test_bokehs_reference_walk_is_the_one_page_speedup_repeats():
    """page_speedup._visit_references repeats bokeh.model.util.visit_immediate_value_references,
    reading set values and made defaults from the object's own dictionaries, with the property
    names of HasProps.properties_with_refs kept per class (a class's properties do not change)."""
    from bokeh.core.has_props import HasProps
    from explorer.app.page_speedup import _bokeh_visit_references
    for function, digest in ((_bokeh_visit_references, "8421536e8dbfc43d"),
                             (HasProps.properties_with_refs.__func__, "bceac4226268bd5e")):
        assert hashlib.sha256(code(function).encode()).hexdigest()[:16] == digest, changed(
            f"bokeh's {function.__qualname__}", "explorer/app/page_speedup.py",
            "which of a model's properties hold the models it refers to, read how")
