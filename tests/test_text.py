"""The app's words: every sentence's verbs match the signs of the changes it describes, for
every family and every kind of step (the first hard E step once said "F rose" as F fell)."""
import re

import numpy as np
import pytest

from explorer import Session, make_model
from explorer.models import MODELS
from explorer import text
from explorer.core.families import families_for, get_family

CASES = [(model, family, schedule)
         for model in sorted(MODELS)
         for family in families_for(make_model(model))
         for schedule in ("em", "ecm", "incremental:50", "gradient:0.05")]


def expected_verb(before: float, after: float) -> str:
    if abs(after - before) <= text.rounding(before, after):
        return "stayed"
    return "rose" if after > before else "fell"


def verbs(sentence: str) -> dict:
    return {name: verb for name, verb in re.findall(r"\b(F|KL|log p) (rose|fell|stayed)\b", sentence)}


@pytest.mark.parametrize("model, family, schedule", CASES)
def test_the_verbs_follow_the_signs(model, family, schedule):
    m = make_model(model)
    try:
        session = Session(m, family=family, schedule=schedule, seed=1)
    except Exception:
        pytest.skip(f"{schedule} does not run with {family} on {model}")
    fam = get_family(family, m)
    start = text.step_sentence(None, session.current, fam)
    assert ("closes the gap" in start) == (family == "exact")
    for _ in range(12):
        previous = session.current
        current = session.step()
        sentence = text.step_sentence(previous, current, fam)
        said = verbs(sentence)
        assert said.get("F") == expected_verb(previous.F, current.F), sentence
        if current.kind == "E" or current.partial:
            assert said.get("KL") in (None, expected_verb(text.kl_of(previous), text.kl_of(current))), sentence
        if current.kind == "M" and "log p" in said:
            assert said["log p"] == expected_verb(previous.loglik, current.loglik), sentence
        if current.kind == "E" and family != "exact" and not current.partial:
            assert "not 0" in sentence and "closes" not in sentence


def test_the_first_hard_e_step_says_f_fell():
    m = make_model("gmm1d")
    session = Session(m, family="hard", seed=0)
    previous, current = session.current, session.e_step()
    assert current.F < previous.F
    sentence = text.step_sentence(previous, current, get_family("hard", m))
    assert "F fell" in sentence and "projection" in sentence


def test_at_a_mean_field_fixed_point_the_gap_is_the_familys():
    m = make_model("two-source")
    session = Session(m, family="mean-field")
    session.run(tol=1e-13, max_iterations=5000)
    session.e_step()
    previous, current = session.current, session.m_step()
    sentence = text.step_sentence(previous, current, get_family("mean-field", m))
    assert "fixed point" in sentence and "family's own gap" in sentence
    assert "fitted to the old θ" not in sentence


def test_numbers_table_and_marks_need_no_emoji_font():
    from explorer.core.checks import check_model
    report = check_model(make_model("linkage"))
    html = text.checks_report(report)
    assert "PASS" in html and not re.search("[\U0001F300-\U0001FAFF\u2705\u274C]", html)
    session = Session(make_model("linkage"), {"theta": 0.5})
    session.iterate()
    table = text.numbers_table(session.current, session.history[1])
    assert "Δθ in the last step: theta 0.1082" in table        # 59/97 − 0.5


def test_log_p_minus_f_equals_kl_in_the_digits_shown():
    """The numbers table's three values subtract exactly as shown (before: log p and F rounded
    on their own, −31.8593 − (−31.9972) = 0.1379 beside KL = 0.1380, as in do-batzoglou). The
    subtraction holds by construction; what can fail is checked against the true values: each
    of log p's, F's and KL's texts is within one unit of its last digit of the value, and KL
    above rounding shows at least three significant digits."""
    from decimal import Decimal

    from explorer.text import identity_texts
    rng = np.random.default_rng(0)
    for _ in range(2000):
        loglik = -10 ** rng.uniform(0, 6)
        kl = 10 ** rng.uniform(-5, 3)
        F = loglik - kl
        texts = identity_texts(loglik, F)
        logp_t, F_t, kl_t = (Decimal(t.replace("−", "-")) for t in texts)
        assert logp_t - F_t == kl_t, texts
        unit = Decimal(1).scaleb(F_t.as_tuple().exponent)
        for shown, true in ((logp_t, loglik), (F_t, F), (kl_t, kl)):
            assert abs(shown - Decimal(true)) <= unit, (texts, loglik, F, kl)
        if kl > 1e-10 * (1 + abs(F)):                           # above rounding
            digits = kl_t.as_tuple().digits
            significant = len(digits) - next(i for i, d in enumerate(digits) if d)
            assert significant >= 3, (texts, kl)
    assert identity_texts(-1.0, -3.5) == ("−1.00000", "−3.50000", "2.50000")
    assert identity_texts(-1034.29, -1034.29 - 3e-13)[2] == "0.00"          # rounding, not a gap


def test_a_kl_of_rounding_reads_as_zero_in_the_sentence_the_table_and_the_bar():
    """After an exact E step KL is ±1e-14 (rounding): the sentence read "KL fell from 27.8929 to
    7.10543e−15" and the bar "KL = 7.1e-15" while the caption says 0 (found in lesson step 3)."""
    from explorer.views.identity import IdentityView
    session = Session(make_model("linkage"), {"theta": 0.3})
    session.e_step()
    session.m_step()
    session.e_step()
    now = session.current
    assert abs(now.kl) < 1e-12
    sentence = text.step_sentence(session.states[-2], now, get_family("exact"))
    assert "e−1" not in sentence and "e-1" not in sentence, sentence
    view = IdentityView()
    view.update(now)
    assert view.kl.text == "KL = 0"


def test_the_last_step_column_reads_zero_where_the_sentence_says_stayed():
    # at a fixed point an E step moved F by +2.274e−13 (rounding): the sentence said "F stayed at
    # −1034.00" and the column beside it "+2.274e−13"
    import re
    from explorer import Session, make_model
    from explorer.text import numbers_table
    session = Session(make_model("gmm1d"), seed=0)
    session.run(tol=1e-12)
    before = session.current
    after = session.e_step()
    assert after.F != before.F and abs(after.F - before.F) < 1e-9       # rounding, not a change
    cells = re.findall(r"<td class='num'>([^<]*)</td>", numbers_table(after, before))
    assert cells[1] == cells[3] == cells[5] == "0", cells
