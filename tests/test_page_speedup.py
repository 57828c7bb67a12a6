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
         + [{"model": "gmm1d", "theme": "dark"}]          # after light pages: other themed values
         + [{"lesson": name, "ls": str(number)} for name in available_lessons()
            for number in range(1, len(load_lesson(name).steps) + 1)])


def page(query: dict) -> Document:
    doc = Document()
    with set_curdoc(doc):
        app = App(query={k: v for k, v in query.items() if k != "theme"})
        app.template().server_doc(doc)
        if "model" in query:                       # a page that has stepped, too
            app.state.e_step()
            app.state.m_step()
    if query.get("theme") == "dark":               # the theme toggle's page: Bokeh themes every model
        from panel.theme.fast import FastDarkTheme
        doc.theme = FastDarkTheme().bokeh_theme
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
    monkeypatch.setattr(HasProps, "query_properties_with_values", _set_values_only)
    ours = document.to_json()                      # ours first: on a document Bokeh has not read
    monkeypatch.setattr(HasProps, "query_properties_with_values", _bokeh_query)
    bokehs = document.to_json()
    assert len(ours.content["roots"]) == len(bokehs.content["roots"]) > 0
    same(ours.content, bokehs.content)
    same(list(ours.buffers or []), list(bokehs.buffers or []))


def test_the_reference_walk_finds_bokehs_models_in_bokehs_order(document, monkeypatch):
    """page_speedup._visit_references: from every root of the page, the same models in the same
    order as Bokeh's walk."""
    import bokeh.model.util as util
    from explorer.app.page_speedup import _bokeh_visit_references, _visit_references
    walks = []
    for visit in (_bokeh_visit_references, _visit_references, _bokeh_visit_references):
        monkeypatch.setattr(util, "visit_immediate_value_references", visit)
        walks.append([[model.id for model in util.collect_models(root)] for root in document.roots])
    assert walks[0] == walks[1] == walks[2] and sum(map(len, walks[0])) > 300


@pytest.mark.parametrize("model", sorted(MODELS))
def test_the_reference_walk_makes_the_defaults_bokehs_walk_makes(model, monkeypatch):
    """On figures never walked (built outside a page), Bokeh's walk makes the defaults made
    afresh that it reads (lists, dicts, models); ours makes the same ones, and finds the same
    models in the same order (two apps of one address: the same figures, other ids)."""
    import bokeh.model.util as util
    from explorer.app.page_speedup import _bokeh_visit_references, _visit_references
    from bokeh.core.property.descriptors import PropertyDescriptor
    from explorer.app import page_speedup
    # as served (remember_class_defaults), for this test only: ours skips the defaults
    # remembered as None, a number or a text
    monkeypatch.setattr(PropertyDescriptor, "instance_default", page_speedup._remembered_instance_default)
    monkeypatch.setattr(PropertyDescriptor, "has_unstable_default", page_speedup._remembered_has_unstable_default)
    walked = []
    for visit in (_bokeh_visit_references, _visit_references):
        monkeypatch.setattr(util, "visit_immediate_value_references", visit)
        figures = [view.figure for view in App(model).plots.views.values()]
        walked.append([(type(m).__name__, sorted(m._unstable_default_values)) for m in util.collect_models(*figures)])
    assert walked[0] == walked[1] and len(walked[0]) > 100


def test_a_page_passes_bokehs_integrity_checks(document):
    issues = check_integrity(document.models)
    told = [issue for issue in issues.error + issues.warning
            if issue.code != EMPTY_LAYOUT.code]          # Panel's server silences that one
    assert not told, told


def test_every_default_on_a_page_is_bokehs(document, request):
    """page_speedup.remember_class_defaults gives the default Bokeh works out, for every property
    left unset on every model of the page, and Bokeh's answer to whether a property's default is
    made afresh, for every property (each read twice: worked out, then remembered)."""
    from explorer.app import page_speedup
    if request.node.callspec.id.endswith("dark"):
        for model in page({"model": "gmm1d"}).models:       # remembered from a light page first
            for name in model.properties():
                if name not in model._property_values and not isinstance(model.lookup(name), AliasPropertyDescriptor):
                    page_speedup._remembered_instance_default(model.lookup(name), model)
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
            first, again = (page_speedup._remembered_instance_default(descriptor, model) for _ in range(2))
            for ours in (first, again):
                if descriptor.has_unstable_default(model) and not isinstance(ours, page_speedup.IMMUTABLE):
                    assert type(ours) is type(bokehs), name
                else:
                    same(ours, bokehs, f"{type(model).__name__}.{name}")
            if not isinstance(first, page_speedup.IMMUTABLE):
                assert first is not again, name        # never one object shared: each read a fresh one
            compared += 1
    assert compared > 1000 and len(page_speedup._class_defaults) > 100


def test_a_property_never_set_that_has_no_default_raises_as_bokeh_raises():
    """Bokeh's loop reads every value, so a required property never set raises; ours reads only
    the kept values and must still raise (the served process skips the validation that would
    otherwise say it)."""
    from bokeh.core.property.descriptors import UnsetValueError
    from bokeh.models import ColumnDataSource, GlyphRenderer, Line
    serialised = lambda descriptor: descriptor.serialized      # noqa: E731
    errors = []
    for query in (_bokeh_query, _set_values_only):
        with pytest.raises(UnsetValueError) as error:
            query(GlyphRenderer(), serialised, include_defaults=False)
        errors.append(str(error.value).rsplit(").", 1)[1])
    assert errors[0] == errors[1] == "data_source doesn't have a value set"
    whole = GlyphRenderer(data_source=ColumnDataSource(), glyph=Line())
    assert _set_values_only(whole, serialised, include_defaults=False).keys() == \
        _bokeh_query(whole, serialised, include_defaults=False).keys()
