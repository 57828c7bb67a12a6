"""The app object without a browser: each control changes the session as expected, and every
view has data for every model."""
import numpy as np
import pytest

from explorer.app import App

MODELS = ["linkage", "coins", "gmm1d", "gmm2d"]


def view_sources(app):
    """Every ColumnDataSource of every figure, by view name."""
    from bokeh.models import ColumnDataSource
    return {name: [m for m in view.figure.references() if isinstance(m, ColumnDataSource)]
            for name, view in app.views.items()}


@pytest.mark.parametrize("name", MODELS)
def test_every_view_has_data_for_every_model(name):
    app = App(name)
    app.e_step()
    app.m_step()
    for view, sources in view_sources(app).items():
        filled = [s for s in sources if s.data and len(next(iter(s.data.values()))) > 0]
        assert filled, f"{name}: view {view} has no data"
    assert not app.message.visible, app.message.object


@pytest.mark.parametrize("name", MODELS)
def test_step_buttons_change_the_session(name):
    app = App(name)
    s = app.session
    assert s.current.kind == "init"
    app.buttons["E step"].clicks += 1
    assert s.current.kind == "E" and abs(s.current.kl) < 1e-9 * (1 + abs(s.current.loglik))
    app.buttons["M step"].clicks += 1
    assert s.current.kind == "M" and s.position == 2
    app.buttons["EM iteration"].clicks += 1
    assert s.position == 4 and [st.kind for st in s.states] == ["init", "E", "M", "E", "M"]
    app.buttons["Undo"].clicks += 1
    assert s.position == 3 and s.can_redo and not app.buttons["Redo"].disabled
    app.buttons["Redo"].clicks += 1
    assert s.position == 4 and app.buttons["Redo"].disabled
    app.timeline.value = 1
    assert s.position == 1 and s.current.kind == "E"
    app.buttons["Run to convergence"].clicks += 1
    assert "converged after" in app.status.object
    final = s.current.loglik
    assert all(b.loglik <= final + 1e-9 for b in s.states)
    app.buttons["Reset"].clicks += 1
    assert s.position == 0 and len(s.history) == 1
    assert not app.message.visible, app.message.object


def test_numbers_panel_explains_the_step():
    app = App("linkage")
    assert "Start" in app.sentence.object
    app.e_step()
    assert app.sentence.object.startswith("E step: q ← p(Z|X,θ), so KL fell from")
    assert r"\leftarrow" in app.formula.object
    app.m_step()
    assert app.sentence.object.startswith("M step")
    assert "log p(X&#124;θ)" in app.numbers.object
    assert "Δθ in the last step: theta 0.1082" in app.numbers.object     # 59/97 − 0.5
    # the reference start of DLR: θ = 0.5, one iteration gives 59/97
    assert float(app.session.current.theta["theta"]) == pytest.approx(59 / 97)


def test_freezing_and_initial_theta_and_seed():
    app = App("gmm1d", frozen=["weights", "variances"])
    app.em_iteration()
    theta = app.session.current.theta
    np.testing.assert_array_equal(theta["weights"], app.session.history[0].theta["weights"])
    app.theta0 = '{"means": [50, 80]}'
    np.testing.assert_array_equal(app.session.current.theta["means"], [50, 80])
    before = app.session.current.theta["means"]
    app.theta0 = ""
    app.seed = 5
    assert not np.array_equal(app.session.current.theta["means"], before)


def test_one_free_parameter_gives_the_exact_picture():
    app = App("linkage")
    assert "exact" in app.views["landscape"].figure.title.text
    app = App("gmm1d")
    assert "slice" in app.views["landscape"].figure.title.text
    app.frozen = ["weights", "variances"]
    app.coordinate = "means[0]"
    assert "slice: 2 free" in app.views["landscape"].figure.title.text
    app.frozen = ["weights", "variances", "means[1]"]       # one entry held: the picture is exact
    assert "exact" in app.views["landscape"].figure.title.text
    app.n_points, app.dataset = 400, "synthetic"             # new data, same model: the frozen set stays
    assert app.frozen == ["weights", "variances", "means[1]"]


def test_model_data_and_options_switch():
    app = App("gmm1d")
    app.dataset = "galaxies"
    assert len(app.model.data) == 82
    app.K = 3
    assert app.session.current.theta["means"].shape == (3,)
    app.dataset = "synthetic"
    app.n_points = 500
    assert len(app.model.data) == 500
    app.model_name = "gmm2d"
    assert app.dataset == "faithful" and app.model.data.shape == (272, 2)
    app.model_name = "coins"
    assert not app.option_widget.visible   # no K for coins
    app.model_name = "factor-analysis"
    app.K = 3
    assert app.option_widget.visible and app.option_widget.label.startswith("k:")
    assert app.session.current.theta["W"].shape == (13, 3)


def test_errors_show_a_message_and_keep_the_session():
    app = App("gmm1d")
    app.e_step()
    app.theta0 = "{bad json"
    assert app.message.visible and "not valid JSON" in app.message.object
    assert app.session.position == 1   # the old session is kept
    app.theta0 = '{"variances": [-1, 2]}'
    assert "must be positive" in app.message.object
    app.theta0 = ""
    assert not app.message.visible


def test_bad_upload_is_refused_with_the_row_named():
    app = App("gmm1d")
    n = len(app.model.data)
    app.upload.filename = "bad.csv"
    app.upload.value = b"x\n1\n2\nabc\n4\n5\n"
    assert app.message.visible and "row 4" in app.message.object and "abc" in app.message.object
    assert len(app.model.data) == n
    app.upload.value = b"x\n1\n1.2\n0.9\n5\n5.1\n4.8\n"
    assert not app.message.visible
    assert app.dataset == "uploaded CSV" and len(app.model.data) == 6


def test_a_failing_step_shows_its_traceback(monkeypatch):
    app = App("coins")

    def broken(*args, **kwargs):
        raise ZeroDivisionError("planted failure")

    monkeypatch.setattr(app.model, "m_step", broken)
    app.buttons["M step"].clicks += 1
    assert app.message.visible and "ZeroDivisionError" in app.message.object and "Traceback" in app.message.object
    assert app.session.position == 0
    monkeypatch.undo()
    app.buttons["E step"].clicks += 1
    assert app.session.position == 1


def test_play_alternates_e_and_m():
    app = App("linkage")
    for _ in range(4):
        app._tick()
    assert [s.kind for s in app.session.states] == ["init", "E", "M", "E", "M"]


def test_each_app_has_its_own_objects():
    a, b = App("coins"), App("coins")
    a.em_iteration()
    assert b.session.position == 0 and a.session is not b.session and a.model is not b.model


def test_constrained_family_shows_the_gap_and_compares_with_exact():
    app = App("two-source")
    assert not app.compare_button.visible
    app.family = "mean-field"
    assert app.compare_button.visible
    app.e_step()
    state = app.session.current
    assert state.kl > 0.01
    assert "KL stays at" in app.sentence.object and "factorise" in app.sentence.object
    assert "sweeps of coordinate ascent" in app.sentence.object
    assert app.views["bound"].best.visible                     # F(θ, q*_θ) inside Q′ is drawn
    bound = app.views["bound"].source.data
    assert np.all(np.asarray(bound["best"]) < np.asarray(bound["loglik"]))   # below log p everywhere
    app.compare_button.clicks += 1
    assert app.comparison_pane.visible and "bias Δθ" in app.comparison_pane.object
    assert len(app.views["bound"].fixed.data["x"]) == 2 and len(app.views["landscape"].fixed.data["t"]) == 2
    exact, variational = app.views["bound"].fixed.data["x"]
    assert variational > exact                                  # the mean-field bias: s is overestimated
    app.family = "exact"
    assert app.comparison is None and not app.comparison_pane.visible


def test_family_choices_follow_the_model():
    app = App("gmm1d")
    assert app.param.family.objects == ["exact", "hard"]
    app.family = "hard"
    app.em_iteration()
    assert app.session.current.kl > 0
    app.model_name = "factor-analysis"
    assert app.family == "exact" and "mean-field" in app.param.family.objects
    app.e_step()
    assert not app.message.visible, app.message.object


def test_schedules_in_the_app():
    app = App("gmm1d", schedule="incremental", block_size=68)
    assert app.block_widgets.visible and not app.step_widget.visible
    assert app.session.schedule_object.describe() == "incremental:68"
    app.e_step()
    assert "block 1 of 4" in app.sentence.object and app.session.current.passes == 0.25
    assert len(app.views["landscape"].off.data["t"]) == 2          # the start and the partial E step
    app.trace_axis = "passes through the data"
    assert list(app.views["trace"].source.data["index"]) == [0.0, 0.25]
    app.schedule = "ecm"
    app.e_step()
    app.m_step()
    assert "CM step: weights" in app.sentence.object
    app.schedule = "gradient"
    assert app.step_widget.visible
    app.step_size = 0.05
    assert app.session.schedule_object.describe() == "gradient:0.05"
    app._tick()
    app._tick()
    assert [s.kind for s in app.session.states] == ["init", "E", "M"]


def test_compare_schedules_overlays_the_runs():
    app = App("gmm1d", compared=["em", "ecm", "incremental"], block_size=34)
    app.compare_schedules_button.clicks += 1
    assert not app.message.visible, app.message.object
    assert app.trace_axis == "passes through the data"
    labels = app.views["trace"].overlay.data["label"]
    assert labels == ["log p: em", "log p: ecm", "log p: incremental:34"]
    assert app.views["trace"].overlay_renderer.visible
    assert len(app.views["landscape"].overlay.data["xs"]) == 3
    table = app.comparison_pane.object
    assert "incremental:34" in table and "passes" in table
    em_passes = app.schedule_runs[0].passes_to_tol
    assert app.schedule_runs[2].passes_to_tol < em_passes        # Neal & Hinton, in kind
    app.model_name = "linkage"
    app.compared = ["incremental"]
    app.compare_schedules_button.clicks += 1
    assert app.message.visible and "at least one schedule" in app.message.object


def test_history_of_a_large_data_set_is_bounded():
    app = App("gmm1d", dataset="synthetic", n_points=200_000)
    assert app.session.keep_q is not None
    app.run_to_convergence(max_iterations=120)
    s = app.session
    assert s.earliest > 0 and all(st.q is None for st in s.history[: s.earliest])
    assert app.timeline.start == s.earliest
    app.timeline.value = s.earliest
    assert s.position == s.earliest and not app.message.visible
    assert App("gmm1d").session.keep_q is None       # small data: every state keeps its q


def test_a_floor_warning_is_shown():
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.normal(0, 1, 100), np.full(5, 7.0)])
    app = App("gmm1d")
    app.upload.filename = "collapse.csv"
    app.upload.value = ("x\n" + "\n".join(map(str, data))).encode()
    app.theta0 = '{"weights": [0.95, 0.05], "means": [0.0, 7.0], "variances": [1.0, 0.001]}'
    app.em_iteration()
    app.em_iteration()
    assert app.warning.visible and "variance held at the floor" in app.warning.object


def test_randomize_draws_a_new_start():
    app = App("gmm1d", theta0='{"means": [50, 80]}')
    app.randomize.clicks += 1
    assert app.theta0 == ""
    starts = {tuple(App("gmm1d", seed=s).session.current.theta["means"]) for s in (0, 1, 2)}
    assert len(starts) == 3                                  # the seed picks the start
    assert tuple(app.session.current.theta["means"]) == tuple(
        App("gmm1d", seed=app.seed).session.current.theta["means"])
