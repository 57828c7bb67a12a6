"""The soak (issue 30): every built-in model × every family × every schedule (in each spelling it
declares) that the registry and the models declare, from seeds hypothesis draws, for hundreds of
half steps: log p and F finite, KL ≥ 0 and F never falling beyond rounding, and any stop an
ExplorerError with a message (a bare numpy or scipy exception fails the test). The long version
is benchmarks/soak.py (on the models' default data)."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from explorer.core.soak import combinations, soak
from explorer.models import MODELS

from .conftest import MODEL_FACTORIES

HALF_STEPS = 200
BUILT = {name: MODEL_FACTORIES[name]() for name in MODELS}   # the small instances the tests share
COMBINATIONS = combinations(BUILT, variants=True)


def test_the_soak_covers_every_model_family_and_schedule():
    from explorer.core.families import families_for
    assert {name for name, _, _ in COMBINATIONS} == set(MODELS)
    for name, model in BUILT.items():
        assert {f for n, f, _ in COMBINATIONS if n == name} == set(families_for(model))
    assert {s.split(":")[0] for _, _, s in COMBINATIONS} == {"em", "ecm", "gradient", "incremental"}


@pytest.mark.parametrize("combination", COMBINATIONS, ids="/".join)
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_numbers_hold_for_hundreds_of_half_steps(combination, seed):
    name, family, schedule = combination
    result = soak(BUILT[name], family, schedule, seed, HALF_STEPS)
    assert not result.problems, result.problems
    if result.stopped:
        assert len(result.stopped) > 20, result.stopped          # a sentence, not a bare code
    else:
        assert result.half_steps == HALF_STEPS
