"""Presets reproduce the literature's tables: ours beside the published numbers."""
import pytest

from explorer import Session, make_model
from explorer.presets import PRESETS, rows


def session_for(name):
    screen = PRESETS[name].screen
    options = {"K": int(screen["K"])} if "K" in screen else {}
    return Session(make_model(screen["model"], data=screen.get("data"), **options), seed=0)


def test_dlr_table_1_to_1e_9_and_the_rate():
    table = rows("dlr-table-1", session_for("dlr-table-1"))
    for row in table[:8]:
        assert row.difference == pytest.approx(0, abs=1e-9)
    assert table[8].ours == pytest.approx(0.1328, abs=5e-5)
    assert table[9].difference == pytest.approx(0, abs=1e-10)


def test_do_batzoglou_to_the_figures_rounding():
    for row in rows("do-batzoglou", session_for("do-batzoglou")):
        decimals = 1 if "expected" in row.quantity else 2
        assert abs(row.difference) <= 0.5 * 10 ** -decimals + 1e-12, row


def test_faithful_2d_matches_scikit_learns_fit_and_the_mean_field_closed_forms():
    for row in rows("faithful-2d", session_for("faithful-2d")):
        assert row.difference == pytest.approx(0, abs=1e-5 * max(1, abs(row.published))), row
    table = rows("mean-field-bias", session_for("mean-field-bias"))
    assert table[1].published == pytest.approx(1.0, abs=1e-12)
    assert table[1].ours == pytest.approx(1.0, abs=1e-8)
    assert table[2].ours == pytest.approx(table[2].published, abs=1e-10) and table[2].ours > 2


def test_ours_is_written_to_as_many_decimals_as_the_published_number():
    # DLR's θ⁽²⁾ read 0.62432105 beside the published 0.624321051: the last zero dropped
    import re
    from explorer.presets import Row
    from explorer.text import preset_table
    # and never fewer digits than before: do-batzoglou's 0.799149109 beside 0.80 read "0.8"
    page = preset_table("t", [Row("θ⁽²⁾", 0.6243210500001, 0.624321051), Row("n", 272.0, 272.0),
                              Row("log p", -1034.0021, -1034.002), Row("θ_A", 0.799149109, 0.80)])
    cells = re.findall(r"<td class='num'>([^<]*)</td>", page)
    assert cells[0:2] == ["0.624321050", "0.624321051"], cells
    assert cells[3:5] == ["272", "272"] and cells[6:8] == ["−1034.0021", "−1034.002"], cells
    assert cells[9:11] == ["0.799149109", "0.8"], cells


def test_the_bound_touching_log_p_reads_zero_in_both_of_its_rows():
    # after the exact E step F − log p is rounding (−1.42e−14 here), and the table showed it
    # beside a KL row of 0: both now read 0, and a real gap would still show
    from explorer.core.readout import difference_shown
    kl, gap = rows("bishop-9-14", session_for("bishop-9-14"))[:2]
    assert kl.ours == 0.0 and gap.ours == 0.0
    assert difference_shown(-7.8, -7.8 + 1e-14) == 0.0 and difference_shown(-7.8, -7.9) == pytest.approx(0.1)
