"""The standalone page of a run: one offline file whose slider redraws every view."""
import pytest

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


def page_states(page: str):
    """What the page's slider shows at each state: `shown(model_id, prop, i)`, read from the
    page's own JSON (the recorded values its JavaScript swaps in), and the page's models by id."""
    import base64
    import gzip
    import json
    import re

    import numpy as np
    docs = json.loads(re.search(r'<script type="application/json" id="[^"]*">\s*(.*?)\s*</script>', page, re.S)[1])
    models = {}

    def walk(value):
        if isinstance(value, dict):
            if value.get("type") == "object" and "id" in value:
                models.setdefault(value["id"], value)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
    walk(docs)

    def decoded(value):
        if isinstance(value, dict) and value.get("type") == "ndarray":
            raw = base64.b64decode(value["array"]["data"])
            raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
            return np.frombuffer(raw, dtype=value["dtype"]).reshape(value["shape"])
        if isinstance(value, dict) and value.get("type") == "map":
            return {k: decoded(v) for k, v in value["entries"]}
        if isinstance(value, list):
            return [decoded(v) for v in value]
        return value
    swap = next(m for m in models.values() if m["name"] == "CustomJS")
    args = dict(swap["attributes"]["args"]["entries"])
    swaps = {(t["id"], p): (v, w) for t, p, v, w in zip(args["targets"], args["props"], args["values"], args["which"])}
    count = len(args["which"][0])

    def shown(model_id, prop, i):
        if (model_id, prop) in swaps:
            values, which = swaps[model_id, prop]
            return decoded(values[which[i]])
        return decoded(models[model_id]["attributes"][prop])
    return shown, models, count


@pytest.mark.parametrize("link, windows", [("preset=bishop-9-14", 1), ("lesson=variational-em&ls=5", 2)])
def test_each_state_s_window_holds_its_m_step_target(link, windows):
    # one window, the last state's, served every state: at state 0 of bishop-9-14 the M step's
    # target (θ = 0.717) lay outside the bound's window (0.333 … 0.657)
    from explorer.screen import Screen
    session = Screen.from_link(link).session()
    shown, models, count = page_states(standalone_html(session, grid=10))
    assert count == session.position + 1
    bound = next(m for m in models.values() if m["name"] == "Figure"
                 and models[m["attributes"]["title"]["id"]]["attributes"]["text"].startswith("Bound along"))
    x_range = bound["attributes"]["x_range"]["id"]
    renderers = [models[r["id"]]["attributes"] for r in bound["attributes"]["renderers"]]
    target = next(r["data_source"]["id"] for r in renderers
                  if models[r["glyph"]["id"]]["attributes"].get("marker") == {"type": "value", "value": "triangle"})
    now = next(r["id"] for r in bound["attributes"]["center"] if models[r["id"]]["name"] == "Span")   # θ_j now
    seen = set()
    for i in range(count):
        lo, hi = shown(x_range, "start", i), shown(x_range, "end", i)
        seen.add((lo, hi))
        t = float(shown(target, "data", i)["t"][0])
        assert lo <= t <= hi and lo <= shown(now, "location", i) <= hi, (i, lo, hi, t)
    assert len(seen) == windows             # the slider switches the window with the state


def test_each_state_says_which_of_the_recorded_states_it_is():
    # every state read "State i of i" (state 1 of a 3-state page said "State 1 of 1")
    import re
    s = Session(make_model("linkage"), {"theta": 0.5})
    s.iterate()
    s.e_step()
    page = standalone_html(s)
    said = set(re.findall(r"State (\d+) of (\d+)", page))
    assert said == {("0", "3"), ("1", "3"), ("2", "3"), ("3", "3")}, said
