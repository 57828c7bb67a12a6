"""A 1-D Gaussian mixture with a planted M-step bug, for the debugger to catch.

The bug, a classic: the variances are computed around the *old* means instead of the new ones,

    σ²_k = Σ_i q_ik (x_i − μ_k^old)² / N_k      (should be μ_k^new)

The M step still raises F (so log p still climbs: a generalized EM step), which is why the bug
hides in traces. `python -m explorer check examples/buggy_gmm.py:BuggyGMM` names it:
"M step is not a maximiser: moving variances[k] ... raises E_q log p by ...".
"""
import numpy as np

from explorer.models.gmm1d import GMM1D


class BuggyGMM(GMM1D):
    name = "buggy-gmm"
    title = "1-D Gaussian mixture with an M-step bug"

    def m_step(self, q, theta, frozen=frozenset()):
        new = super().m_step(q, theta, frozen)
        counts = q.sum(axis=1)
        old_means = theta["means"]
        new["variances"] = np.array([q[k] @ (self.data - old_means[k]) ** 2 / counts[k]
                                     for k in range(self.K)])   # BUG: old means
        return new
