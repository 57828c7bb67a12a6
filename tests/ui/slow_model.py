"""A researcher's slow model, for the browser tests: the zero-inflated Poisson of `examples/`
whose M step takes a tenth of a second (as an unvectorised model's may). A link replaying
its 300 half steps lasts 15 s on any machine, long enough to be cancelled surely; the
built-in models' links all replay within about 2 s now, faster than a test can click."""
import importlib.util
import time
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "zero_inflated_poisson", Path(__file__).parents[2] / "examples" / "zero_inflated_poisson.py")
_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_example)

M_STEP_SECONDS = 0.1


class SlowZeroInflatedPoisson(_example.ZeroInflatedPoisson):
    name = "slow-zip"
    title = "Zero-inflated Poisson, slow M step"

    def m_step(self, q, theta, frozen=frozenset()):
        time.sleep(M_STEP_SECONDS)
        return super().m_step(q, theta, frozen)
