"""A teacher's walk through a lecture, without a browser: what each screen sends to the page
(the browser's own walk is tests/ui/test_lecture.py)."""
import numpy as np
import pytest
from bokeh.document import Document
from bokeh.document.events import ColumnDataChangedEvent, ColumnsStreamedEvent, ModelChangedEvent

from explorer.core.session import Session
from explorer.models import make_model
from explorer.views import TraceView


def rows_the_page_holds(doc, source):
    """The rows of `source` as a page applying the document's messages would hold them."""
    held = {"rows": len(source.data["x"])}

    def seen(event):
        if isinstance(event, ModelChangedEvent) and event.model is source and event.attr == "data":
            held["rows"] = len(event.new["x"])          # sent as the data are when the message goes
        elif isinstance(event, ColumnDataChangedEvent) and event.model is source:
            held["rows"] = len(source.data["x"])
        elif isinstance(event, ColumnsStreamedEvent) and event.model is source:
            held["rows"] += len(event.data["x"])
    doc.on_change(seen)
    return held


def test_a_trace_replaced_then_streamed_in_one_message_holds_each_row_once():
    # a lesson step resets the session (the trace is replaced) and takes its steps (streamed),
    # all in one held message: the page held rows 0…16 and then 1…16 again
    model = make_model("linkage")
    view = TraceView()
    first = Session(model, {"theta": 0.3})
    view.update(first.history, first.position)
    for _ in range(3):
        first.iterate()
    view.update(first.history, first.position)
    doc = Document()
    doc.add_root(view.figure)
    held = rows_the_page_holds(doc, view.source)
    doc.hold("combine")
    second = Session(model, {"theta": 0.5})
    view.update(second.history, second.position)             # replaced: one row
    for _ in range(8):
        second.iterate()
    view.update(second.history, second.position)             # 16 more
    doc.unhold()
    assert held["rows"] == len(second.history) == 17
    assert list(view.source.data["x"]) == list(range(17))
    # outside a hold a step still streams only its new point
    second.iterate()
    sent = []
    doc.on_change(lambda event: sent.append(type(event).__name__))
    view.update(second.history, second.position)
    assert "ColumnsStreamedEvent" in sent and held["rows"] == 19
    np.testing.assert_array_equal(view.source.data["x"], np.arange(19))


def test_the_standalone_page_is_built_whatever_document_bokeh_calls_current():
    # the app builds the page in a worker thread, where Bokeh's "current document" may be a
    # page's that has ended (its callbacks taken apart): the page must not depend on it
    from bokeh.io.doc import patch_curdoc
    from explorer.standalone import standalone_html
    ended, listener = Document(), (lambda event: None)
    ended.on_change(listener)
    ended.destroy(listener)                 # as Bokeh does when a page's session ends
    session = Session(make_model("linkage"), {"theta": 0.3})
    session.iterate()
    with patch_curdoc(ended):
        page = standalone_html(session, grid=10)
    assert "<html" in page.lower() and "Bokeh" in page


def test_a_failure_reported_after_its_thread_ended_shows_its_own_frames():
    # the standalone page's failure came back from a worker thread: "details" read NoneType: None
    from bokeh.io.doc import patch_curdoc
    from explorer.app import ExplorerState
    ended, listener = Document(), (lambda event: None)
    ended.on_change(listener)
    ended.destroy(listener)
    from bokeh.embed.util import _new_doc
    with patch_curdoc(ended):              # left normally: Bokeh's patch is undone only then
        try:
            _new_doc()                     # a library's frames only, as the page's failure had
        except AttributeError as exc:
            error = exc.with_traceback(exc.__traceback__.tb_next)      # without this test's own frame
    state = ExplorerState()
    state.report(error, "The standalone page could not be built")
    assert "_js_event_callbacks" in state.message
    assert "_new_doc" in state.details and "NoneType: None" not in state.details


def test_the_standalone_page_keeps_a_contour_band_of_one_plain_ring_as_nested_lists():
    # the innermost band is often one ring without holes: as one 3-d array the page drew nothing
    # there (a white hole where the landscape's top band should be)
    from explorer.standalone import _compact
    band_of_one_ring = [[[0.0, 1.0, 1.0, 0.0]]]              # polygons → rings → coordinates
    band_with_two = [[[0.0, 1.0, 1.0]], [[2.0, 3.0, 3.0], [2.5, 2.6, 2.5]]]
    xs = _compact([band_of_one_ring, band_with_two])
    assert isinstance(xs, list) and isinstance(xs[0], list) and isinstance(xs[0][0], list)
    ring = xs[0][0][0]
    assert ring.dtype == np.float32 and ring.shape == (4,)
    np.testing.assert_array_equal(xs[1][1][1], np.float32([2.5, 2.6, 2.5]))
    image = _compact([np.arange(6.0).reshape(2, 3)])           # an image stays 2-d
    assert image[0].shape == (2, 3) and image[0].dtype == np.float32
    assert _compact(["circle", "square"]) == ["circle", "square"]
    assert _compact(np.arange(3)).dtype == np.int32


def test_the_basins_map_merges_what_it_cannot_tell_apart_and_says_where_the_best_is():
    # gmm1d's default start holds the variances at the pooled 184: EM crawls towards μ1 = μ2 and
    # stopped at three "fixed points" with the same log p; the −1034 optimum of the restarts has
    # variances near 34, outside this slice, and the map said nothing about it
    from explorer.app import App
    from explorer.core.model import get_coordinate
    app = App("gmm1d")
    state = app.state
    state.analyses.run_basins(grid=20)
    result = state.analyses.basins
    assert len(result.fixed_points) == 1 and result.counts == [400]
    assert app.plots.analyses.basins_plot.object.title.text == "Basins of 1 fixed point"     # not "1 fixed points"
    assert abs(get_coordinate(result.fixed_points[0], "means[0]") - get_coordinate(result.fixed_points[0], "means[1]")) < 2
    state.analyses.run_restarts()
    best = state.analyses.restarts.fixed_points[0]
    assert best.loglik > result.logliks[0] + 50
    state.analyses.run_basins(grid=20)
    table = app.plots.analyses.basins_table.object
    assert "is not in this slice" in table and "Start from it" in table and "variances" in table


def test_label_switched_twins_on_a_basins_map_are_one_fixed_point():
    from explorer.app.analyses_view import basins_html, basins_names
    from explorer.core.basins import basins
    from explorer.core.session import Session as S
    model = make_model("gmm1d")
    session = S(model, seed=0)
    session.run(tol=1e-10)
    theta = {k: np.asarray(v).tolist() for k, v in session.current.theta.items()}
    theta["weights"], theta["variances"] = [0.5, 0.5], [40.0, 40.0]    # exchangeable components
    result = basins(model, theta, ("means[0]", "means[1]"), grid=11)
    names, group = basins_names(result)
    twins = [i for i, w in enumerate(result.twin_of) if w is not None]
    assert twins                                           # the best fixed point has its twin
    for i in twins:
        j = result.twin_of[i]
        np.testing.assert_allclose(result.fixed_points[i]["means"], result.fixed_points[j]["means"][::-1], rtol=1e-6)
        assert names[i] == names[j] + "′" and group[i] == group[j]
    table = basins_html(result)
    assert table.count("<tr>") == 1 + len(result.fixed_points) - len(twins)
    assert "labels switched" in table


def test_every_preset_has_a_caption_and_ours_beside_the_source():
    # bishop-9-14 and faithful-1d opened with neither, contrary to the README
    from explorer.app import ExplorerState
    from explorer.app.readout_view import readout_html
    from explorer.presets import PRESETS
    state = ExplorerState()
    for name, preset in PRESETS.items():
        assert state.player.open_preset(name) and not state.message, (name, state.message)
        assert preset.caption and state.player.preset_rows, name
        page = readout_html(state)
        assert preset.caption.split(":")[0][:30] in page.replace("&#x27;", "'") and "Ours beside the source" in page
    state.player.open_preset("bishop-9-14")
    kl, gap, theta_new, excess = state.player.preset_rows
    assert abs(kl.ours) < 1e-9 and abs(gap.ours) < 1e-9
    x1, x2, x3, x4 = 125, 18, 20, 34                        # the counts, by hand
    x12 = x1 * 0.1 / 0.6
    assert theta_new.ours == pytest.approx((x12 + x4) / (x12 + x2 + x3 + x4), rel=1e-12)
    assert excess.ours > 0
    state.player.open_preset("faithful-1d")
    mean, variance, loglik = state.player.preset_rows
    assert mean.ours == pytest.approx(70.897059, abs=1e-6) and variance.difference == pytest.approx(0, abs=1e-8)


def test_a_link_to_each_lesson_step_sets_up_the_screen_next_and_back_reach():
    # a step's link is read before the state's watchers listen: the link to step 8 showed the
    # linkage model (the step's model was named but never built)
    from explorer.app import ExplorerState
    from explorer.lessons import available_lessons, load_lesson
    for name in available_lessons():
        walked = ExplorerState(query={"lesson": name})
        for step in range(len(load_lesson(name).steps)):
            if step:
                walked.player.lesson_next()
            linked = ExplorerState(query={"lesson": name, "ls": str(step + 1)})
            for state in (walked, linked):
                assert type(state.model).name == state.model_name and not state.message, (step, state.message)
            assert linked.model_name == walked.model_name and linked.dataset == walked.dataset, step
            assert [s.loglik for s in linked.session.history] == [s.loglik for s in walked.session.history], step


def test_the_standalone_page_asks_no_server_for_panels_style_sheets(monkeypatch):
    # built in the app's server, where Panel had loaded a widget's style sheet, the page linked
    # static/extensions/panel/…/tabulator_simple.min.css: a failed load offline
    import explorer.standalone as standalone
    from explorer.standalone import standalone_html
    real = standalone.file_html

    def with_panels_sheet(*args, **kwargs):
        page = real(*args, **kwargs)
        return page.replace("<head>", '<head><link rel="stylesheet" href="static/extensions/panel/bundled/'
                                      'datatabulator/tabulator_simple.min.css" type="text/css" />', 1)
    monkeypatch.setattr(standalone, "file_html", with_panels_sheet)
    session = Session(make_model("linkage"), {"theta": 0.3})
    page = standalone_html(session, grid=10)
    assert "static/extensions" not in page and "<head>" in page


def shown_numbers(table: str) -> dict:
    import re
    cells = re.findall(r"<tr><td>([^<]+)</td><td class='num'>([^<]+)</td>", table)
    return {name: text for name, text in cells}


@pytest.mark.parametrize("name", ["mvn-missing", "gmm1d", "linkage", "two-source"])
def test_log_p_minus_F_visibly_equals_KL_and_no_value_rises_to_itself(name):
    # mvn-missing showed log p = F = −2326.7 with KL = 9.5e−4, and a sentence read
    # "log p rose from −1034 to −1034"
    import re
    from decimal import Decimal
    from explorer.app import ExplorerState
    from explorer import text
    state = ExplorerState(model_name=name)
    family = state.family_object
    s = state.session
    for _ in range(6):
        for step in (s.e_step, s.m_step):
            step()
            shown = shown_numbers(text.numbers_table(s.current, s.history[s.position - 1]))
            logp, F, kl = (Decimal(shown[k].replace("−", "-")) for k in ("log p(X|θ)", "F(θ, q)", "KL(q ‖ p(Z|X,θ))"))
            last = Decimal(1).scaleb(-max(-logp.as_tuple().exponent, 0))      # one unit of the last decimal
            assert abs((logp - F) - kl) <= last, (shown, s.current.kl)
            if s.current.kl > 1e-9 * (1 + abs(s.current.loglik)):
                assert kl != 0 and abs(float(kl) - s.current.kl) <= 0.02 * s.current.kl + float(last), shown
            sentence = text.step_sentence(s.history[s.position - 1], s.current, family)
            for a, b in re.findall(r"from (\S+) to (\S+?)[,;:.]?(?:\s|$)", sentence):
                assert a != b, sentence


def test_the_rate_sentence_waits_until_the_rate_settles_and_speaks_for_the_family():
    # gmm1d's export read "Rate … = 1.20813 (near the fixed point: the largest fraction of missing
    # information)" after ten iterations, and the same words appeared under mean-field
    from explorer.app import ExplorerState
    from explorer.app.readout_view import readout_html
    from explorer.core.convergence import em_map_rate, settled_rate
    state = ExplorerState(model_name="gmm1d")
    s = state.session
    state.em_iteration()
    state.em_iteration()
    assert "Rate" not in readout_html(state)          # two iterations: no estimate that means anything
    s.run(tol=1e-12, max_iterations=3000)
    state.touch()
    rate = settled_rate(s.states)
    assert rate is not None and 0 < rate < 1
    limit = em_map_rate(s.model, s.current.theta, s.frozen, s.family_object)
    assert rate == pytest.approx(limit, rel=0.05)     # settled: it is the EM map's rate at θ̂
    assert "fraction of missing information" in readout_html(state)
    mean_field = ExplorerState(model_name="two-source", family="mean-field")
    mean_field.session.run(tol=1e-12, max_iterations=3000)
    mean_field.touch()
    page = readout_html(mean_field)
    assert "Rate" in page and "not a fraction of missing information" in page
    early = ExplorerState(model_name="gmm1d")
    for _ in range(10):
        early.em_iteration()
    assert settled_rate(early.session.states) is None     # still far from the fixed point (1.2…)


def test_the_cli_read_by_head_ends_quietly():
    # `python -m explorer models --json | head` ended in a BrokenPipeError traceback
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen([sys.executable, "-m", "explorer", "models", "--json"], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**__import__("os").environ, "PYTHONPATH": str(root)})
    process.stdout.close()                       # the reader has gone before the first line
    errors = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0 and "Traceback" not in errors, errors


def test_save_image_without_matplotlib_says_what_to_install(monkeypatch, tmp_path):
    import builtins
    from explorer import plots
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    session = Session(make_model("linkage"), {"theta": 0.3})
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plots.save_image(session, tmp_path / "run.png")


def test_an_upload_with_a_short_row_names_the_line_and_what_it_needs():
    from explorer.app import ExplorerState
    state = ExplorerState(model_name="gmm1d")
    assert not state.upload("waits.csv", b"waiting,eruptions\n80,3.6\n54\n")
    assert "line 3 has 1 value, but the header names 2 columns (waiting, eruptions)" in state.message
    assert "fields" not in state.message


def test_the_analyses_tables_sit_below_the_plots_and_the_numbers_point_to_them():
    # the Compare and Restarts tables landed below the fold of the numbers' 292-px scroll box
    from explorer.app import App
    app = App("gmm1d", family="hard")
    app.state.analyses.compare_with_exact()
    app.state.analyses.run_restarts()
    readout, tables = app.plots.readout.pane.object, app.plots.readout.tables
    assert "Fixed points from the same start" not in readout and "distinct fixed point" not in readout
    assert "Below the plots" in readout and "comparison with exact EM" in readout
    assert tables.visible and "Fixed points from the same start" in tables.object
    assert "distinct fixed point" in tables.object
    layout = app.plots.__panel__()
    assert tables in layout.objects and layout.objects.index(tables) > 0      # after the plots' row


@pytest.mark.parametrize("query", [{"model": "linkage", "theta0": '{"theta": 0.5}', "steps": "EM4"},
                                   {"model": "gmm1d", "steps": "EM2"}, {"model": "coins", "steps": "EM2"}])
def test_the_staircase_starts_below_the_diagonal_whatever_the_zoom(query):
    # the start's F lies below its column's: it was pinned to the edge of lowest F, the top when
    # zoomed, and the first E move came down from there ("E steps move up to the diagonal")
    from explorer.app import ExplorerState
    for zoom in (True, False):
        state = ExplorerState(query=query)
        state.zoom = zoom
        drawn = state.drawing.picture()
        lo, hi = drawn.window
        t0, phi0 = drawn.path.t[0], drawn.path.phi[0]
        assert lo <= phi0 < t0 <= hi, (zoom, drawn.window, phi0, t0)
        assert drawn.path.phi[1] == t0                     # the E step moves up to the diagonal


def test_the_trace_at_state_0_shows_log_p_F_and_KL():
    # a line of one point draws nothing: at state 0 the trace showed only F's marker
    from bokeh.models import GlyphRenderer, Scatter
    view = TraceView()
    session = Session(make_model("gmm1d"), seed=0)
    view.update(session.history, 0)
    drawn = {r.glyph.y for r in view.figure.renderers
             if isinstance(r, GlyphRenderer) and isinstance(r.glyph, Scatter) and r.data_source is view.source}
    assert {"loglik", "F", "kl"} <= drawn


def test_linkage_cell_labels_fit_a_third_of_1366_px():
    # four labels of ten characters on one line ran into each other at 1366 px
    from explorer.views.pictures.linkage import LinkageDataView
    view = LinkageDataView(make_model("linkage"))
    factors = list(view.figure.x_range.factors)
    assert len(factors) == 4 and max(len(line) for f in factors for line in f.split("\n")) <= 8


@pytest.mark.parametrize("query", [{"model": "gmm1d", "family": "hard", "steps": "E"},
                                   {"model": "gmm1d", "family": "hard", "steps": "EM3"},
                                   {"model": "coins", "family": "hard", "steps": "EM2"}])
def test_the_landscape_s_colours_have_contrast_where_the_path_is(query):
    # under the hard family the range ran down to F's 2 % quantile (35 % unzoomed), far below the
    # path: 54 % of gmm1d's zoomed landscape, the path's region included, was one colour (73 % of
    # coins' unzoomed one)
    from explorer.app import ExplorerState
    from explorer.views.landscape import LandscapeView
    for zoom in (True, False):
        state = ExplorerState(query=query)
        state.zoom = zoom
        drawn = state.drawing.picture()
        view = LandscapeView()
        view.update(drawn, {})
        low, high = view.mapper.low, view.mapper.high
        levels = np.array(view.contour.levels)
        assert levels[1:] == pytest.approx(np.linspace(low, high, len(levels))[1:])   # the bar maps the bands
        F = drawn.landscape.F[np.isfinite(drawn.landscape.F)]
        assert low < high == pytest.approx(F.max())
        bands = np.bincount(np.clip(np.searchsorted(levels, F, side="right") - 1, 0, len(levels) - 2))
        assert bands.max() <= 0.4 * F.size, (zoom, bands)                   # no colour covers the picture
        assert np.mean(F >= (low + high) / 2) >= 0.2, zoom                  # the top half is not empty
        # every F of the path that some cell of the landscape reaches has a colour of its own
        # (the current point sits up to a grid cell above the top: its F is not on the grid)
        path = np.array(drawn.path.F)
        reached = path[(path >= F.min()) & (path <= F.max() + 1e-3 * (high - low))]
        assert len(reached) and np.all(reached >= low), (zoom, reached, low)


def test_a_rate_above_one_is_called_a_saddle_not_a_fraction_of_missing_information():
    # gmm1d with K = 3 from a start with two equal means (the default start drew 77, 79, 79 from
    # faithful's repeated values, before starts were drawn distinct) converges to two equal
    # components, and the page said "The EM map's rate at θ̂ (the largest fraction of missing
    # information) is 1.02913": a fraction above 1. Above 1, θ̂ is a saddle: EM keeps equal
    # components equal, and a push off it climbs.
    from explorer.app import ExplorerState
    from explorer.core.convergence import em_map_rate
    state = ExplorerState(model_name="gmm1d", option=3, theta0='{"means": [77, 79, 79]}')
    state.run_to_convergence()
    theta = state.session.current.theta
    means = np.sort(np.asarray(theta["means"]))
    assert np.min(np.diff(means)) < 1e-3                      # two components became one
    rate = em_map_rate(state.model, theta, state.session.frozen, state.session.family_object)
    assert rate > 1
    said = " ".join(state.notes + [state.activity])
    assert "saddle" in said and "fraction of missing information" not in said, said
    pushed = {**theta, "means": np.asarray(theta["means"], dtype=float) + np.array([0.0, 0.0, 0.5])[np.argsort(
        np.argsort(theta["means"]))]}
    climbs = Session(state.model, pushed)
    before = climbs.current.loglik
    climbs.run(tol=1e-10, max_iterations=3000)
    assert climbs.current.loglik > before + 0.1            # off the saddle, EM climbs away from it


@pytest.mark.parametrize("model, family", [("gmm1d", "hard"), ("two-source", "mean-field")])
def test_the_start_says_what_the_first_e_step_of_the_family_does_to_f(model, family):
    # under hard assignments the start read "An E step within hard assignments narrows the gap as
    # far as the family allows", and the first E step then took F from −1098.7 down to −1268.9
    from explorer.app import ExplorerState
    from explorer.text import start_sentence
    state = ExplorerState(model_name=model, family=family)
    s = state.session
    said = start_sentence(s.current, s.family_object)
    before = s.current.F
    state.e_step()
    fell = s.current.F < before - 1e-9
    assert fell == (family == "hard")                # what the family's E step did, computed here
    assert ("can fall below the start's" in said) == fell and ("narrows the gap" in said) != fell, said


def test_a_lesson_walks_in_a_notebook_through_steps_that_change_the_model():
    # App("gmm1d") in a notebook: Next from step 7 to 8 (gmm1d to two-source, mean field) failed
    # with "This screen's model could not be set up: TypeError: ... <lambda>() takes 1 positional
    # argument but 2 were given": a watcher of several settings got two changes in one batch
    from explorer.app.app import App
    from explorer.lessons import load_lesson
    app = App("gmm1d", query={"lesson": "variational-em", "ls": "1"})
    lesson = load_lesson("variational-em")
    for number in range(1, len(lesson.steps)):
        app.state.player.lesson_next()
        step = lesson.steps[number]
        assert app.state.message == "", (number, app.state.message)
        assert app.state.model_name == step.screen.get("model", "gmm1d"), number
        assert app.state.lesson_step == number


def test_a_lesson_step_looks_the_same_by_next_by_back_and_by_its_link():
    # step 5's bound plot had y from −9.78 after Next and from −9.80 after Back or its link (its
    # ticks read −10.5 … against −9.5 …): the axis kept the range of the screen before. Step 1's
    # trace had y from −6 to −40 after Back and −9 to −38 by its link (where the KL marker hid
    # the log p point): every plot's axes are chosen afresh for a new screen
    from explorer.app.app import App
    from explorer.lessons import load_lesson

    def ranges(start, move=None):
        app = App("gmm1d", query={"lesson": "variational-em", "ls": str(start)})
        if move is not None:
            move(app.state.player)
        app.plots.refresh()
        return {(name, axis): [None if v is None or np.isnan(v) else round(float(v), 9) for v in (r.start, r.end)]
                for name, view in app.views.items()
                for axis, r in [("x", view.figure.x_range), ("y", view.figure.y_range),
                                *view.figure.extra_y_ranges.items()]
                if hasattr(r, "start")}
    last = len(load_lesson("variational-em").steps)
    for number in range(1, last + 1):
        by_link = ranges(number)
        if number > 1:
            assert ranges(number - 1, lambda p: p.lesson_next()) == by_link, number
        if number < last:
            assert ranges(number + 1, lambda p: p.lesson_back()) == by_link, number


def test_the_bound_plot_shows_a_constrained_familys_whole_f_curve():
    # lesson step 8 (two-source, mean field): the bound's y axis started at the 30 % quantile of
    # log p and F together, and F, the curve the step is about, lies below log p: a third of it
    # was below the plot
    from explorer.app.app import App
    app = App("linkage", query={"lesson": "variational-em", "ls": "8"})
    app.plots.refresh()
    view = app.views["bound"]
    f = np.asarray(view.source.data["F"], float)
    f = f[np.isfinite(f)]
    assert f.size > 10 and view.figure.y_range.start <= f.min() and f.max() <= view.figure.y_range.end
