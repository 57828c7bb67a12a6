"""One way to write a number on a screen (issue 27, item 4): a state's log p, F and KL read the
same in the sentence, the numbers table, the bound's legend and the identity bar (they read
3.59321 in the sentence, 3.593 in the table and 3.5932e+00 in the legend)."""
import re

import pytest

from explorer import Session, make_model
from explorer import text
from explorer.core.picture import landscape_calculator, picture
from explorer.views import BoundView, IdentityView

NAMES = {"log p": "log p(X|θ)", "F": "F(θ, q)", "KL": "KL(q ‖ p(Z|X,θ))"}


def table_texts(state, previous) -> dict:
    cells = dict(re.findall(r"<tr><td>([^<]+)</td><td class='num'>([^<]+)</td>", text.numbers_table(state, previous)))
    return {short: cells[long] for short, long in NAMES.items()}


def sentence_texts(sentence: str) -> dict:
    """The values the sentence gives the state (not the state before): 'X rose from a to b', 'X fell by d to b',
    'X stayed at b', 'touching log p = b', 'KL is (now) b'."""
    found = {}
    for name, value in re.findall(r"\b(F|KL|log p) (?:rose|fell) (?:from \S+|by \S+) to (\S+?)[,;:.]?(?:\s|$)", sentence):
        found[name] = value
    for name, value in re.findall(r"\b(F|KL|log p) stayed at (\S+?)[,;:.]?(?:\s|$)", sentence):
        found[name] = value
    for value in re.findall(r"touching log p = (\S+?)[;,]", sentence):
        found["log p"] = value
    for value in re.findall(r"KL is (?:now )?(\S+?)[,;.]?(?:\s|$)", sentence):
        found["KL"] = value
    return found


@pytest.mark.parametrize("name, family", [("gmm1d", "exact"), ("two-source", "mean-field"), ("coins", "exact"),
                                          ("mvn-missing", "exact")])
def test_a_states_numbers_read_the_same_in_the_sentence_the_table_and_the_legends(name, family):
    model = make_model(name)
    session = Session(model, family=family, seed=1)
    fam = session.family_object
    calculator = landscape_calculator(model, fam, 12)
    bound, identity = BoundView(), IdentityView()
    key = next(iter(model.params())).name
    key = key if model.params()[0].shape == () else f"{key}[{','.join('0' * len(model.params()[0].shape))}]"
    compared, widths = 0, set()
    for _ in range(6):
        previous = session.current
        now = session.step()
        table = table_texts(now, previous)
        said = sentence_texts(text.step_sentence(previous, now, fam))
        for what, value in said.items():
            assert value == table[what], (what, said, table)
            compared += 1
        before = table_texts(previous, None)             # the state before, as its own table wrote it
        for what, value in re.findall(r"\b(F|KL|log p) (?:rose|fell) from (\S+) to", text.step_sentence(previous, now, fam)):
            assert value == before[what], (what, value, before)
        bound.update(picture(session, key, calculator), fam.closes_gap, {})
        identity.update(now)
        legend = bound.kl_item.label["value"].split("= ", 1)[1].rstrip("\u2007\u2008 ")
        assert legend == table["KL"], (legend, table)
        label = bound.kl_item.label["value"]        # as wide whatever the number: no new layout per step
        widths.add((len(label), label.count(".") + label.count("\u2008")))
        assert identity.kl.text.split("\n") in ([f"KL = {table['KL']}"], ["KL =", table["KL"]])
        assert len(identity.kl.text.split("\n")[-1]) <= len("KL = 0.0370")        # fits the frame
    assert compared >= 6 and len(widths) == 1, widths
