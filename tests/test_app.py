"""The app without a browser: the headless `ExplorerState` (every action, every bad input, the
URL) and the viewers' wiring to it."""
import re
from pathlib import Path

import numpy as np
import pytest

import explorer.models
from explorer import LatentClassModel, Param
from explorer.app import App, ExplorerState
from explorer.core.model import get_coordinate
from explorer.app.sources import UPLOADED
from explorer.screen import decode_steps, encode_steps
from explorer.app.readout_view import readout_html

MODELS = sorted(explorer.models.MODELS)


def view_sources(app):
    """Every ColumnDataSource of every figure, by view name."""
    from bokeh.models import ColumnDataSource
    return {name: [m for m in view.figure.references() if isinstance(m, ColumnDataSource)]
            for name, view in app.views.items()}


@pytest.mark.parametrize("name", MODELS)
def test_every_view_has_data_for_every_model(name):
    app = App(name)
    app.state.e_step()
    app.state.m_step()
    for view, sources in view_sources(app).items():
        filled = [s for s in sources if s.data and len(next(iter(s.data.values()))) > 0]
        assert filled, f"{name}: view {view} has no data"
    assert not app.state.message, app.state.message


def test_the_app_opens_on_an_exact_landscape():
    state = ExplorerState()
    drawn = state.drawing.picture()
    assert drawn.exact and drawn.n_free == 1
    state.em_iteration()
    state.em_iteration()
    drawn = state.drawing.picture()
    lo, hi = drawn.window
    span = max(drawn.path.t + drawn.path.phi[1:]) - min(drawn.path.t + drawn.path.phi[1:])
    assert span >= 0.3 * (hi - lo)              # the staircase fills the zoomed view
    state.zoom = False
    assert state.drawing.picture().window == state.drawing.picture().full_range


def test_step_actions_and_history():
    state = ExplorerState(model_name="gmm1d")
    s = state.session
    state.e_step()
    assert s.current.kind == "E" and abs(s.current.kl) < 1e-9 * (1 + abs(s.current.loglik))
    state.m_step()
    state.em_iteration()
    assert [st.kind for st in s.states] == ["init", "E", "M", "E", "M"]
    state.undo()
    assert s.position == 3 and s.can_redo
    state.redo()
    state.go_to(1)
    assert s.position == 1 and s.current.kind == "E"
    result = state.run_to_convergence()
    assert result.converged and all(b.loglik <= s.current.loglik + 1e-9 for b in s.states)
    state.reset()
    assert s.position == 0 and len(s.history) == 1
    assert not state.message


def test_every_number_on_screen_agrees():
    """The bound's KL and the landscape's now are the state's own numbers (they used to be read
    off the nearest grid point)."""
    for name, family in (("gmm1d", "exact"), ("two-source", "mean-field"), ("coins", "exact")):
        app = App(name, family=family)
        app.state.e_step()
        for _ in range(3):
            current = app.session.current
            drawn = app.state.drawing.picture()
            assert drawn.kl == current.kl
            assert drawn.now[2] == current.F and drawn.now[0] == get_coordinate(current.theta, app.state.coordinate)
            label = app.views["bound"].kl_item.label["value"]
            assert float(label.split("=")[1]) == pytest.approx(max(current.kl, 0.0), rel=5e-3, abs=1e-12)
            table_kl = re.search(r"KL\(q ‖ p\(Z\|X,θ\)\)</td><td class='num'>([^<]+)<", readout_html(app.state))[1]
            assert label.split("= ")[1].rstrip("\u2007\u2008") == table_kl     # written as the numbers table writes it
            gap = app.views["bound"].gap.data
            assert gap["loglik"][0] - gap["F"][0] == pytest.approx(current.kl, abs=1e-9)
            assert f"{app.session.position} of" in readout_html(app.state)
            app.state.m_step() if current.kind == "E" else app.state.e_step()


def test_the_url_rebuilds_the_same_states():
    cases = [dict(model_name="gmm1d", schedule="incremental", block_size=50, block_order="random",
                  frozen=["means[1]"], theta0='{"means": [55, 85]}'),
             dict(model_name="coins", schedule="ecm", seed=3),
             dict(model_name="two-source", family="mean-field"),
             dict(model_name="gmm1d", dataset="synthetic", n_points=500, data_seed=4, separation=2.5, option=3)]
    for settings in cases:
        state = ExplorerState(**settings)
        for _ in range(4):
            state.em_iteration()
        state.e_step()
        state.undo()
        query = state.links.query()
        again = ExplorerState(query=query)
        assert not again.notes, again.notes
        a, b = state.session, again.session
        assert (len(a.history), a.position) == (len(b.history), b.position)
        for x, y in zip(a.history, b.history):
            assert (x.kind, x.loglik, x.F) == (y.kind, y.loglik, y.F)          # to the last digit
            assert all(np.array_equal(x.theta[k], y.theta[k]) for k in x.theta)
        assert again.links.query() == query


def test_steps_are_written_as_runs_of_iterations():
    kinds = ["E", "M"] * 12 + ["E"]
    assert encode_steps(kinds) == "EM12E"
    assert decode_steps("EM12E") == kinds
    assert decode_steps(encode_steps(["M", "E", "M", "M", "E", "M", "M"])) == ["M", "E", "M", "M", "E", "M", "M"]


@pytest.mark.parametrize("query, note", [
    ({"model": "gmm1d", "K": "1000"}, "K='1000'"),
    ({"model": "gmm1d", "K": "abc"}, "K='abc'"),
    ({"model": "gmm1d", "steps": "XYZ"}, "steps"),
    ({"model": "gmm1d", "steps": "EM3", "at": "abc"}, "at='abc'"),
    ({"model": "linkage", "theta0": "{bad"}, "not valid JSON"),
    ({"model": "linkage", "frozen": "nonsense"}, "nonsense"),
    ({"model": "examples/buggy_gmm.py:BuggyGMM"}, "not a model here"),
    ({"model": "gmm1d", "family": "mean-field"}, "mean-field"),
    ({"model": "gmm1d", "grid": "5000"}, "grid"),
    ({"model": "gmm1d", "sep": "nan"}, "sep"),
    ({"model": "gmm1d", "bogus": "1"}, "bogus"),
])
def test_a_bad_url_value_is_ignored_with_a_note(query, note):
    state = ExplorerState(query=query)
    assert any(note in n for n in state.notes), state.notes
    assert state.session.model is state.model
    assert state.model.name == state.model_name                 # what is shown is what runs
    state.em_iteration()
    assert not state.message


def test_gmm2d_with_too_many_components_in_the_url_stays_gmm2d():
    state = ExplorerState(query={"model": "gmm2d", "K": "13"})
    assert state.model_name == "gmm2d" and state.model.name == "gmm2d"
    assert state.notes == ["K='13' (ignored): K (number of mixture components) is from 1 to 12"]
    assert state.session.current.theta["means"].shape == (2, 2)


@pytest.mark.parametrize("model, k, kept", [("gmm2d", 12, True), ("hmm", 8, True), ("hmm", 9, False)])
def test_the_bounds_of_a_url_value_are_those_of_the_model_it_opens(model, k, kept):
    """K's bounds are the opened model's, which differ: gmm2d's K goes to 12 (a K = 12 screen's
    link reopens it), hmm's only to 8 (K = 9 is ignored with a note)."""
    state = ExplorerState(query={"model": model, "K": str(k)})
    assert state.model_name == model
    if kept:
        assert not state.notes and state.option == k
    else:
        assert state.notes == [f"K='{k}' (ignored): K (number of hidden states) is from 1 to 8"]
        assert state.option == 2                                  # hmm's default K
    if model == "gmm2d":
        assert state.session.current.theta["means"].shape == (k, 2)


@pytest.mark.parametrize("text, words", [
    ("{bad json", "not valid JSON"),
    ('{"theta": 7}', "must lie in [0, 1]"),
    ('{"means": [50, 80]}', "no parameter 'means'"),
    ("[0.5]", "JSON object"),
    ('{"theta": "x"}', "must be a number or a list of numbers"),
    ("[" * 30000, "not valid JSON"),
])
def test_a_bad_initial_theta_leaves_the_state_unchanged(text, words):
    state = ExplorerState()
    state.e_step()
    session, before = state.session, state.theta0
    state.theta0 = text
    assert words in state.message and "unchanged" in state.message
    assert state.session is session and state.session.position == 1
    assert state.theta0 == before
    state.theta0 = '{"theta": 0.3}'
    assert not state.message and float(state.session.current.theta["theta"]) == 0.3


def test_a_good_initial_theta_is_taken_and_shown():
    app = App("gmm1d")
    app.state.theta0 = '{"means": [50, 80]}'
    np.testing.assert_array_equal(app.session.current.theta["means"], [50, 80])
    assert "means = [50, 80]" in readout_html(app.state)


def test_settings_that_do_not_fit_are_refused_and_set_back():
    state = ExplorerState(model_name="gmm1d")
    session = state.session
    state.frozen = ["weights", "means", "variances"]
    state.schedule = "ecm"                              # every block frozen: nothing to maximise
    assert state.session is not session
    state.em_iteration()
    assert "frozen" in state.message
    state.set(frozen=[])
    state.option = 3
    assert state.session.current.theta["means"].shape == (3,)


def test_uploads_always_answer():
    state = ExplorerState(model_name="gmm1d")
    n = len(state.model.data)
    assert not state.upload("bad.csv", b"x\n1\n2\nabc\n4\n5\n")
    assert "row 4" in state.message and "abc" in state.message and len(state.model.data) == n
    assert not state.upload("empty.csv", b"")
    assert "empty" in state.message                     # replaces the previous message
    assert not state.upload("binary.csv", b"\xff\xfe\x00")
    assert "UTF-8" in state.message
    good = b"x\n1\n1.2\n0.9\n5\n5.1\n4.8\n"
    assert state.upload("good.csv", good) and not state.message
    assert state.dataset == UPLOADED and len(state.model.data) == 6
    state.em_iteration()
    assert state.upload("good.csv", good)               # the same file again is read again
    assert state.session.position == 0
    state.model_name = "gmm2d"                          # one column does not fit gmm2d
    assert UPLOADED not in state.param.dataset.objects and state.dataset == "faithful"
    state.model_name = "gmm1d"
    assert UPLOADED in state.param.dataset.objects


def test_a_rejected_upload_leaves_everything_as_it_was():
    state = ExplorerState(model_name="gmm2d")
    model, session = state.model, state.session
    collinear = b"a,b\n" + b"".join(f"{i},{2 * i}\n".encode() for i in range(3))
    assert not state.upload("line.csv", collinear)
    assert state.model is model and state.session is session and state.dataset == "faithful"


def test_a_failing_step_shows_its_traceback(monkeypatch):
    state = ExplorerState(model_name="coins")

    def broken(*args, **kwargs):
        raise ZeroDivisionError("planted failure")

    monkeypatch.setattr(state.model, "m_step", broken)
    state.m_step()
    assert "ZeroDivisionError" in state.message and "Traceback" in state.details
    assert state.session.position == 0
    monkeypatch.undo()
    state.e_step()
    assert state.session.position == 1 and not state.message


def test_play_steps_and_stops_at_convergence():
    state = ExplorerState()
    for _ in range(4):
        assert state.play_step()
    assert [s.kind for s in state.session.states] == ["init", "E", "M", "E", "M"]
    steps = 0
    while state.play_step():
        steps += 1
        assert steps < 200
    assert state.session.current.kind == "M"


def test_each_state_has_its_own_objects():
    a, b = ExplorerState(model_name="coins"), ExplorerState(model_name="coins")
    a.em_iteration()
    assert b.session.position == 0 and a.session is not b.session and a.model is not b.model


def test_constrained_family_shows_the_gap_and_compares_with_exact():
    app = App("two-source")
    assert not app.controls.compare.visible
    app.state.family = "mean-field"
    assert app.controls.compare.visible
    app.state.e_step()
    assert app.session.current.kl > 0.01
    html = readout_html(app.state)
    assert "not 0" in html and "factorise" in html and "sweeps of coordinate ascent" in html
    assert app.views["bound"].best.visible
    bound = app.views["bound"].source.data
    assert np.all(np.asarray(bound["best"]) < np.asarray(bound["loglik"]))
    app.state.analyses.compare_with_exact()
    assert "bias Δθ" in readout_html(app.state)
    exact, variational = app.views["bound"].fixed.data["x"]
    assert variational > exact                                  # the mean-field bias: s is overestimated
    assert len(app.views["landscape"].fixed.data["t"]) == 2
    app.state.family = "exact"
    assert app.state.analyses.comparison is None and "bias" not in readout_html(app.state)


def test_family_and_schedule_choices_follow_the_model():
    state = ExplorerState(model_name="gmm1d")
    assert state.param.family.objects == ["exact", "hard"]
    state.family = "hard"
    state.em_iteration()
    assert state.session.current.kl > 0
    state.model_name = "factor-analysis"
    assert state.family == "exact" and "mean-field" in state.param.family.objects
    state.model_name = "linkage"
    state.schedule = "incremental"
    assert "mixture" in state.message and state.schedule == "em"


def test_ecm_from_the_buttons_reaches_every_block():
    state = ExplorerState(model_name="gmm1d", schedule="ecm")
    for _ in range(3):
        state.e_step()
        state.m_step()
    details = [s.detail for s in state.session.states if s.kind == "M"]
    assert details == ["CM step: weights", "CM step: means", "CM step: variances"]


def test_schedules_in_the_app():
    app = App("gmm1d", schedule="incremental", block_size=68)
    assert app.controls.blocks.visible and not app.controls.step_size.visible
    assert app.session.schedule_object.describe() == "incremental:68"
    app.state.e_step()
    assert "block 1 of 4" in readout_html(app.state) and app.session.current.passes == 0.25
    path = app.state.drawing.picture().path
    assert all(path.placed) and len(path.t) == 2                 # partial states drawn too
    assert len(app.views["landscape"].now.data["t"]) == 1
    app.state.trace_axis = "passes through the data"
    assert list(app.views["trace"].source.data["x"]) == [0.0, 0.25]
    app.state.schedule = "gradient"
    assert app.controls.step_size.visible
    app.state.step_size = 0.05
    assert app.session.schedule_object.describe() == "gradient:0.05"


def test_compare_schedules_scales_to_the_runs_that_converge_and_says_why():
    app = App("gmm1d", compared=["em", "ecm", "incremental", "gradient"], block_size=34, step_size=1e-5)
    app.state.analyses.compare_schedules()
    assert not app.state.message, app.state.message
    runs = {run.schedule: run for run in app.state.analyses.schedule_runs}
    assert not runs["gradient:1e-05"].converged
    html = readout_html(app.state)
    assert "did not converge" in html
    trace = app.views["trace"]
    assert trace.stalled.data["stalled"] == ["gradient:1e-05 (not converged)"]
    longest = max(max(xs) for xs in trace.overlay.data["xs"])
    assert max(trace.stalled.data["xs"][0]) >= 500 > 2 * trace.figure.x_range.end   # not stretched to it
    assert trace.figure.x_range.end >= longest
    linkage = ExplorerState(compared=["em", "incremental"])
    linkage.analyses.compare_schedules()
    assert "incremental left out" in readout_html(linkage) and "mixture" in readout_html(linkage)


def test_the_history_budget_lives_in_the_session():
    state = ExplorerState(model_name="gmm1d", dataset="synthetic", n_points=200_000)
    assert state.session.keep_q is not None
    state.run_to_convergence(max_iterations=120)
    s = state.session
    assert s.earliest > 0 and all(st.q is None for st in s.history[: s.earliest])
    state.go_to(0)
    assert s.position == s.earliest and not state.message
    small = ExplorerState(model_name="gmm1d").session          # 272 points: undo reaches back 30,840 states
    assert small.keep_q == small.history_budget // (2 * 272 * 8) == 30_840      # the app's 128 MiB


def test_a_floor_warning_is_shown():
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.normal(0, 1, 100), np.full(5, 7.0)])
    state = ExplorerState(model_name="gmm1d")
    assert state.upload("collapse.csv", ("x\n" + "\n".join(map(str, data))).encode())
    state.theta0 = '{"weights": [0.95, 0.05], "means": [0.0, 7.0], "variances": [1.0, 0.001]}'
    state.em_iteration()
    state.em_iteration()
    assert "Warning: " in readout_html(state) and "variance held at the floor" in readout_html(state)


def test_randomize_draws_a_new_start():
    state = ExplorerState(model_name="gmm1d", theta0='{"means": [50, 80]}')
    state.randomize()
    assert state.theta0 == ""
    starts = {tuple(ExplorerState(model_name="gmm1d", seed=s).session.current.theta["means"]) for s in (0, 1, 2)}
    assert len(starts) == 3


class OneDimensional(LatentClassModel):
    """A custom two-class model on values on a line (for the choice of data view)."""
    name, title = "line", "two classes on a line"
    datasets, default_dataset = {"some": "twenty values"}, "some"

    def params(self):
        return [Param("m", (2,), "real", "m")]

    @classmethod
    def load_dataset(cls, name, **options):
        return np.linspace(-2, 2, 20)

    def validate_data(self, data):
        return np.asarray(data, dtype=float)

    def n_classes(self):
        return 2

    def log_joint(self, theta, rows=slice(None)):
        x = self.data[rows]
        return np.log(0.5) - 0.5 * (x[None, :] - theta["m"][:, None]) ** 2

    def m_step(self, q, theta, frozen=frozenset()):
        return {"m": (q @ self.data) / q.sum(axis=1)}

    def init_theta(self, rng):
        return {"m": np.array([-1.0, 1.0])}


def test_the_data_view_follows_what_the_model_declares_or_its_data():
    from explorer.views.data import view_kind
    from explorer import make_model
    assert view_kind(OneDimensional(np.linspace(-2, 2, 20))) == "histogram"
    assert view_kind(make_model("gmm2d")) == "scatter"
    assert view_kind(make_model("linkage")) == "cells"
    app = App(OneDimensional, np.linspace(-2, 2, 20))
    app.state.e_step()
    assert type(app.views["data"]).__name__ == "HistogramView"
    assert len(app.views["data"].points.data["color"]) == 20


def test_a_theta_on_the_boundary_is_marked_and_the_app_keeps_working():
    state = ExplorerState(theta0='{"theta": 1}')       # linkage: cells 2 and 3 impossible
    assert not np.isfinite(state.session.current.loglik)
    assert "not finite" in readout_html(state)
    state.e_step()
    state.reset()
    state.theta0 = '{"theta": 0.5}'
    assert np.isfinite(state.session.current.loglik) and "not finite" not in readout_html(state)


def test_restarts_find_the_galaxies_optima_and_load_one():
    state = ExplorerState(model_name="gmm1d", dataset="galaxies")
    state.set(option=3, restart_count=12)
    state.analyses.run_restarts()
    points = state.analyses.restarts.fixed_points
    assert len(points) >= 2 and sum(p.count for p in points) == 12
    html = readout_html(state)
    assert "12 starts" in html and "distinct fixed points" in html
    assert state.analyses.load_fixed_point(2)
    theta = state.session.current.theta
    np.testing.assert_allclose(theta["means"], points[1].theta["means"])
    assert state.analyses.restarts is not None                  # the table stays for another load
    assert not state.analyses.load_fixed_point(99) and "no fixed point 99" in state.message


def test_the_dlr_preset_puts_table_1_beside_ours_to_1e_9():
    from explorer.presets import DLR_TABLE_1
    state = ExplorerState(query={"preset": "dlr-table-1"})
    assert state.preset_name == "dlr-table-1" and state.model_name == "linkage"
    assert state.session.position == 16
    thetas = [r for r in state.player.preset_rows if r.quantity.startswith("θ⁽")]
    assert [r.published for r in thetas] == list(DLR_TABLE_1)
    assert all(abs(r.difference) < 1e-9 for r in thetas)
    assert "Ours beside the source" in readout_html(state)
    state.set(model_name="coins")                       # leaving the preset's screen drops its table
    assert state.preset_name == "" and state.player.preset_rows == []


@pytest.mark.parametrize("name", ["do-batzoglou", "bishop-9-14", "faithful-1d", "faithful-2d", "mean-field-bias"])
def test_every_preset_sets_up_its_screen(name):
    state = ExplorerState()
    assert state.player.open_preset(name) and not state.message and not state.notes
    for row in state.player.preset_rows:
        assert abs(row.difference) <= 0.03 * max(1.0, abs(row.published)), row


def test_the_restarts_traces_are_drawn_below_the_plots():
    app = App("gmm1d", dataset="galaxies")
    app.state.set(option=3, restart_count=8)
    app.state.analyses.run_restarts()
    assert app.plots.analyses.restarts_box.visible
    lines = [r for r in app.plots.analyses.restarts_plot.object.renderers]
    assert sum(len(r.data_source.data["ys"]) for r in lines) == 8


def test_the_basins_map_is_drawn_below_the_plots():
    app = App("gmm1d")
    app.state.run_to_convergence()
    assert not app.plots.analyses.basins_box.visible
    app.state.analyses.run_basins(grid=10)
    assert app.plots.analyses.basins_box.visible and app.plots.analyses.basins_plot.object is not None
    assert "Fixed points of the basins map" in app.plots.analyses.basins_table.object
    title = app.plots.analyses.basins_plot.object.title.text           # "1 fixed points" read wrong
    count = int(title.split()[2])
    assert title.startswith(f"Basins of {count} fixed point{'' if count == 1 else 's'}")
    assert "1 fixed points" not in title


def test_the_plots_can_be_drawn_as_svg_for_export():
    app = App("linkage")
    assert {v.figure.output_backend for v in app.views.values()} == {"canvas"}
    app.state.svg = True
    assert {v.figure.output_backend for v in app.views.values()} == {"svg"}


def test_a_run_to_convergence_can_be_cancelled_and_keeps_its_iterations():
    state = ExplorerState(model_name="gmm1d")
    seen = []
    assert state.converge(progress=lambda i, st: seen.append(i), cancelled=lambda: len(seen) >= 3) is None
    assert seen == [1, 2, 3] and state.activity == "Run to convergence: cancelled after 3 iterations."
    assert len(state.session.history) == 1 + 2 * 3


def test_while_a_run_is_running_the_steps_wait():
    state = ExplorerState(model_name="linkage")
    state.running = "Run to convergence"
    assert state.e_step() is None and state.session.position == 0
    assert "still running" in state.message and "Cancel" in state.message
    state.running = ""
    state.e_step()
    assert state.session.position == 1 and not state.message


def test_a_saved_model_file_is_reloaded_on_the_same_screen(tmp_path):
    """Edit, save, see: the new code runs the same steps, a broken save keeps the last working
    model and says why, a planted bug fails the checks and its fix passes them."""
    import os
    source = Path(__file__).resolve().parents[1] / "examples" / "zero_inflated_poisson.py"
    path = tmp_path / "zip_model.py"
    good = source.read_text()
    path.write_text(good)
    app = App.from_args(["--model", f"{path}:ZeroInflatedPoisson"])
    state = app.state
    for _ in range(3):
        state.em_iteration()
    loglik = state.session.current.loglik

    def save(text):
        path.write_text(text)
        stamp = path.stat().st_mtime + 2 + len(text) % 7
        os.utime(path, (stamp, stamp))
        app._reload_if_saved()

    save(good + "\n# a comment\n")
    assert len(state.session.history) == 7 and state.session.current.loglik == loglik
    assert state.notes[-1] == ("Reloaded zip from its file; the 6 steps were taken again. After the reload the "
                               "checks pass (6/6).") and not state.message
    assert "PASS" in app.controls.check_report.object and "FAIL" not in app.controls.check_report.object

    save(good.replace("def m_step(self, q, theta, frozen=frozenset()):", "def m_step(self, q, theta, frozen=frozenset())"))
    assert "could not be loaded (the last working version stays)" in state.message and "SyntaxError" in state.message
    assert state.session.current.loglik == loglik and state.e_step() is not None
    state.undo()

    save(good.replace("        r = q[0]\n", "        r = q[0]\n        raise RuntimeError('half-way through an edit')\n"))
    assert "could not be used (the last working version stays)" in state.message
    assert "half-way through an edit" in state.message and str(path) in state.details   # the user's own frame
    assert state.session.position == 6 and state.session.current.loglik == loglik

    save(good.replace('new["lam"] = max(', 'new["lam"] = 1.3 * max('))          # a planted bug in the M step
    assert "FAIL" in app.controls.check_report.object
    save(good)
    assert "FAIL" not in app.controls.check_report.object and "PASS" in app.controls.check_report.object


def test_a_model_is_held_against_a_second_implementation_in_the_app():
    examples = Path(__file__).resolve().parents[1] / "examples"
    app = App.from_args(["--model", f"{examples / 'buggy_gmm.py'}:BuggyGMM", "--against",
                         f"{examples / 'gmm_log_joint.py'}:GMMLogJoint"])
    assert app.controls.against.options == ["gmm1d", "gmm-log-joint"]
    app.controls.against.value = "gmm-log-joint"
    report = app.controls._compare_implementations()
    failed = [c for c in report.checks if not c.passed]
    assert [c.name for c in failed] == ["the M step agrees"] and "first disagreement at variances[0]" in failed[0].message
    assert "FAIL" in app.controls.check_report.object and not app.controls.checks_card.collapsed
    assert App("linkage").controls.against.options == []        # built-ins alone: nothing offered


def test_a_model_source_watches_its_model_file_and_its_data_file_only(tmp_path):
    import os
    from explorer.app.app import ModelSource
    model = tmp_path / "zip_model.py"
    model.write_text((Path(__file__).resolve().parents[1] / "examples" / "zero_inflated_poisson.py").read_text())
    data = tmp_path / "counts.csv"
    data.write_text("x\n0\n1\n3\n0\n2\n")
    source = ModelSource(f"{model}:ZeroInflatedPoisson", str(data))
    assert not source.saved()
    for path, step in ((data, 5), (model, 9)):
        stamp = path.stat().st_mtime + step
        os.utime(path, (stamp, stamp))
        assert source.saved() and not source.saved()          # once per save
    (tmp_path / "other.py").write_text("x = 1\n")
    assert not source.saved()
    assert len(source.load().data) == 5


def test_a_page_open_logs_no_warning(caplog):
    """A course server's log has a line per session, not four layout warnings per page."""
    import logging

    import panel as pn
    from bokeh.document import Document
    from panel.io.state import set_curdoc
    caplog.set_level(logging.WARNING)
    doc = Document()
    with set_curdoc(doc):
        App.from_args([], query={}).template().server_doc(doc)
    pn.panel(App("linkage")).get_root(Document())          # and in a notebook
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_a_session_that_ends_while_playing_logs_its_end_and_stops_play(caplog):
    """Bokeh takes a session's models apart before it calls the session's end callbacks, and
    Panel may forget them before or after ours (the callbacks are a set): the end must not
    touch the page. (Once in three CI runs the end raised, and its log line was missing.)"""
    import logging
    import types

    from bokeh.document import Document
    app = App("linkage")
    layout = app.__panel__()
    doc = Document()
    doc.add_root(layout.get_root(doc))
    app.state.e_step()
    app.steps.playing = True
    for model in list(doc.models):           # what Bokeh's Document.destroy does first
        model.destroy()
    caplog.set_level(logging.INFO, logger="explorer")
    app._ended(types.SimpleNamespace(id="abc"))
    assert "session abc ended at state 1 of 1" in caplog.text
    assert not app.steps.playing
    app.steps._on_request(None)              # a request already on its way is not answered
    assert len(app.state.session.history) == 2


def test_a_setting_that_starts_the_session_again_says_so():
    """Choosing another family after some steps started again from θ⁰ with no word (found
    walking gmm1d: State 4 of 4, then hard, then State 0 of 0)."""
    state = ExplorerState("gmm1d")
    state.e_step()
    state.m_step()
    state.set(family="hard")
    assert len(state.session.history) == 1
    assert any("start again from θ⁰: the 2 half steps" in note for note in state.notes), state.notes


def test_the_start_again_note_goes_at_the_next_step_and_keeps_the_others():
    """The note that the settings started again from θ⁰ stayed after further steps (it replaced
    every note, and nothing took it away); an earlier note (an upload's) was lost with it."""
    state = ExplorerState("gmm1d")
    assert state.upload("a.csv", ("x\n" + "\n".join(str(v) for v in (1, 2, 3, 10, 11, 12))).encode())
    state.e_step()
    state.set(seed=7)
    assert [n[:20] for n in state.notes] == ["Uploaded a.csv: 6 ro", "The new settings sta"], state.notes
    state.e_step()
    assert state.notes == ["Uploaded a.csv: 6 rows."]


def test_the_checks_verdict_shows_in_the_numbers_panel_too():
    # the report lands under the Checks button, at the sidebar's foot, out of the window at
    # 1366×768: clicking seemed to do nothing (a teacher's walk-through)
    from explorer.app.readout_view import readout_html
    app = App("linkage")
    report = app.controls.run_checks()
    n = len(report.checks)
    assert report.passed and app.state.notes[-1] == f"Checks (EM debugger): the checks pass ({n}/{n})."
    assert f"the checks pass ({n}/{n})" in readout_html(app.state)
    app.controls.run_checks()
    assert sum(note.startswith("Checks (EM debugger):") for note in app.state.notes) == 1   # replaced, not piled
