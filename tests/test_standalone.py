"""The standalone page of a run: one offline file whose slider redraws every view."""
from explorer import Session, make_model
from explorer.cli import main
from explorer.standalone import chosen_states, prefix_lengths, standalone_html


def test_at_most_200_states_evenly_spread_with_the_first_and_the_current():
    session = Session(make_model("linkage"), seed=0)
    for _ in range(150):
        session.iterate()
    states = chosen_states(session, 200)
    assert len(states) == 200 and states[0] == 0 and states[-1] == 300
    assert chosen_states(session, 1000) == list(range(301))


def test_a_growing_path_is_stored_once():
    values = [{"t": [1.0], "k": ["E"]}, {"t": [1.0, 2.0], "k": ["E", "M"]}, {"t": [1.0, 2.0, 3.0], "k": ["E", "M", "E"]}]
    assert prefix_lengths(values) == [1, 2, 3]
    assert prefix_lengths([{"t": [1.0]}, {"t": [2.0, 3.0]}]) is None


def test_the_page_is_self_contained_and_small():
    session = Session(make_model("gmm1d"), seed=0)
    for _ in range(100):
        session.iterate()
    page = standalone_html(session)
    assert len(page) < 10 * 2**20                                  # 201 states
    assert "<script src=" not in page and "<link href=" not in page      # everything inline
    assert "State (of 200 recorded" in page


def test_building_reports_each_state_and_leaves_the_session_where_it_was():
    session = Session(make_model("coins"), seed=0)
    for _ in range(5):
        session.iterate()
    session.go_to(6)
    seen = []
    standalone_html(session, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(k, 7) for k in range(1, 8)]          # states 0..6: the page stops at the current one
    assert session.position == 6 and len(session.history) == 11


def test_the_page_asks_for_no_file_of_other_libraries_even_with_panel_loaded():
    import panel  # noqa: F401  (the app's process has it)
    session = Session(make_model("linkage"), seed=0)
    session.iterate()
    assert "es-module-shims" not in standalone_html(session)


def test_export_html_from_the_cli(tmp_path, capsys):
    target = tmp_path / "run.html"
    assert main(["export", "--model", "coins", "--iterations", "3", "--format", "html", "-o", str(target)]) == 0
    assert target.stat().st_size > 1_000_000 and "Bokeh" in target.read_text()
    assert main(["export", "--model", "coins", "--iterations", "1", "--format", "html", "--param", "nope"]) == 2
