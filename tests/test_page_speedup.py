"""The served app's two cuts to a page's sending (page_speedup.py, serving.py) change nothing a
page receives or a developer is told: the page of every model and of every lesson step is
serialised the same both ways, and passes Bokeh's integrity checks here, where the server skips
them."""
import numpy as np
import pytest
from bokeh.core.property.descriptors import AliasPropertyDescriptor
from bokeh.core.validation.check import check_integrity
from bokeh.core.validation.warnings import EMPTY_LAYOUT
from bokeh.document import Document
from panel.io.state import set_curdoc

from explorer.app import App
from explorer.app.page_speedup import _bokeh_query, _set_values_only
from explorer.lessons import available_lessons, load_lesson
from explorer.models import MODELS

PAGES = ([{"model": name} for name in MODELS]
         + [{"lesson": name, "ls": str(number)} for name in available_lessons()
            for number in range(1, len(load_lesson(name).steps) + 1)])


def page(query: dict) -> Document:
    doc = Document()
    with set_curdoc(doc):
        app = App(query=query)
        app.template().server_doc(doc)
        if "model" in query:                       # a page that has stepped, too
            app.state.e_step()
            app.state.m_step()
    return doc


def same(ours, bokehs, where="") -> None:
    """Equal JSON-like values; a binary buffer is compared by its bytes (each has its own id)."""
    assert type(ours) is type(bokehs), where
    if isinstance(ours, dict):
        assert ours.keys() == bokehs.keys(), where
        for key in ours:
            same(ours[key], bokehs[key], f"{where}/{key}")
    elif isinstance(ours, (list, tuple)):
        assert len(ours) == len(bokehs), where
        for i, (a, b) in enumerate(zip(ours, bokehs)):
            same(a, b, f"{where}[{i}]")
    elif hasattr(ours, "data") and hasattr(ours, "id"):           # bokeh's Buffer
        assert bytes(ours.data) == bytes(bokehs.data), where
    elif isinstance(ours, np.ndarray):
        assert np.array_equal(ours, bokehs), where
    elif isinstance(ours, float) and np.isnan(ours):
        assert np.isnan(bokehs), where
    else:
        assert ours == bokehs, where


@pytest.fixture(scope="module", params=PAGES, ids=lambda q: "-".join(q.values()))
def document(request):
    return page(request.param)


def test_a_page_is_serialised_as_bokeh_serialises_it(document, monkeypatch):
    from bokeh.core.has_props import HasProps
    monkeypatch.setattr(HasProps, "query_properties_with_values", _bokeh_query)
    bokehs = document.to_json()
    monkeypatch.setattr(HasProps, "query_properties_with_values", _set_values_only)
    ours = document.to_json()
    assert len(ours.content["roots"]) == len(bokehs.content["roots"]) > 0
    same(ours.content, bokehs.content)
    same(list(ours.buffers or []), list(bokehs.buffers or []))


def test_a_page_passes_bokehs_integrity_checks(document):
    issues = check_integrity(document.models)
    told = [issue for issue in issues.error + issues.warning
            if issue.code != EMPTY_LAYOUT.code]          # Panel's server silences that one
    assert not told, told


def test_every_default_on_a_page_is_bokehs(document):
    """page_speedup.remember_class_defaults gives the default Bokeh works out, for every property
    left unset on every model of the page, and Bokeh's answer to whether a property's default is
    made afresh, for every property (each read twice: worked out, then remembered)."""
    from explorer.app import page_speedup
    compared = 0
    for model in document.models:
        for name in model.properties():
            descriptor = model.lookup(name)
            if isinstance(descriptor, AliasPropertyDescriptor):          # another property's name
                continue
            for _ in range(2):
                assert (page_speedup._remembered_has_unstable_default(descriptor, model)
                        == page_speedup._bokeh_has_unstable_default(descriptor, model)), name
            if name in model._property_values:
                continue
            bokehs = page_speedup._bokeh_instance_default(descriptor, model)
            for _ in range(2):
                ours = page_speedup._remembered_instance_default(descriptor, model)
                if descriptor.has_unstable_default(model) and not isinstance(ours, page_speedup.IMMUTABLE):
                    assert type(ours) is type(bokehs) and ours is not bokehs, name    # a fresh one each time
                else:
                    same(ours, bokehs, f"{type(model).__name__}.{name}")
            compared += 1
    assert compared > 1000 and len(page_speedup._class_defaults) > 100
