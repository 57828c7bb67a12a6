"""What the mixtures share (`Mixture`: K, the weights, the moment pass, the relabelling) and
what the Gaussian ones add (`GaussianMixture`: the variance floor, the start).

The variance floor. A component that collapses onto one data point has a variance going to 0
and a likelihood going to +∞, so EM would run off to a degenerate "maximum". Every variance
(every eigenvalue of a covariance) is held at or above

    floor = VARIANCE_FLOOR × (the data's variance; in 2-D the smaller of the two columns')

and a state whose θ touches the floor carries a warning saying which component and by how much.
The floor is 1e-6 of the data's scale: far below any real cluster, so it never moves a fit that
does not collapse (the scikit-learn cross-checks run with no floor hit).
"""
from __future__ import annotations

import numpy as np

from ..core.constraints import PROBABILITY_FLOOR, kept_positive
from ..core.errors import ExplorerError
from ..core.latent_class import BLOCK, SERIAL_GEMM, LatentClassModel, normalise
from ..core.model import Option

VARIANCE_FLOOR = 1e-6
EMPTY = 1e-300   # a component whose total responsibility is below this is empty


def collapse_message(variances, floor: float, noun: str) -> str:
    """Why θ has left the floor the M step keeps to ("" if it has not): the first of the
    `noun`s (component, line, state) whose variance a move that is not the M step (a gradient
    step) took below `floor`."""
    for k, low in enumerate(variances):
        if low < floor * (1 - 1e-9):
            return (f"{noun} {k + 1} collapsed onto one point: log p → +∞ (its variance {low:.3g} is below "
                    f"the floor {floor:.3g} the M step keeps to); stopped before this step")
    return ""


class Mixture(LatentClassModel):
    """K components with weights w_k: the statistics, the M step of the weights, their
    warnings and the relabelling every mixture shares."""
    option_specs = (Option("K", 2, 1, 12, "number of mixture components"),)
    count_stats = ("count",)
    latent_description = "which component generated each point"

    @property
    def K(self) -> int:
        return self.options["K"]

    def n_classes(self):
        return self.K

    def prior_weights(self, theta):
        return np.asarray(theta["weights"], dtype=float)

    # How many per-point moments the model's statistics are sums of (`moments_of`); 0: the
    # model computes its statistics its own way (`suff_stats`) and takes the generic pass.
    n_moments = 0

    def moments_of(self, rows, out) -> np.ndarray:
        """(n_moments, n) into `out` (row 0 already 1): the moments of the points in `rows`."""
        raise NotImplementedError

    def raw_stats(self, q, rows=slice(None), work=None) -> np.ndarray:
        """(K, m): Σ_i q_ik · moment_i over the points in `rows` for the model's m per-point
        moments (`moments_of`, whose first is 1, so column 0 is N_k): one array that sums over
        blocks of points. The moments are made a piece at a time in `work` (`moment_work`),
        never for the whole data, so the statistics read only the data and q; the pieces keep
        each matrix product on one thread (SERIAL_GEMM)."""
        work = self.moment_work() if work is None else work
        step = min(work.shape[1], max(1024, SERIAL_GEMM // (len(q) * self.n_moments)))
        if isinstance(rows, slice) and rows.step in (None, 1):
            start, stop, _ = rows.indices(self.n_points())
            pieces = ((slice(b, min(b + step, stop)), slice(b - start, min(b + step, stop) - start))
                      for b in range(start, stop, step))
        else:   # an index array (or a strided slice): its points in order, a piece at a time
            index = np.arange(self.n_points())[rows]
            pieces = ((index[b:b + step], slice(b, min(b + step, len(index)))) for b in range(0, len(index), step))
        raw = np.zeros((len(q), self.n_moments))
        for points, columns in pieces:
            moments = self.moments_of(points, work[:, :columns.stop - columns.start])
            raw += q[:, columns] @ moments.T
        return raw

    def moment_work(self) -> np.ndarray:
        """A scratch array for `raw_stats`' moments, its row of ones filled."""
        work = np.empty((self.n_moments, max(1, min(BLOCK, self.n_points()))))
        work[0] = 1.0
        return work

    def suff_stats(self, q, rows=slice(None)):
        return self.stats_of(self.raw_stats(q, rows))

    def fused_pass(self, theta):
        """One pass per θ: per block of points, the log joint, its normalisation and the raw
        statistics of the posterior, summed as one array (`LatentClassModel.fused_pass`), for a
        model whose statistics are sums of moments."""
        if not self.n_moments:
            return None
        work = self.moment_work()

        def block(rows, out):
            loglik, entropy = normalise(self.log_joint(theta, rows), out)
            return loglik, entropy, self.raw_stats(out, rows, work)
        return block, self.stats_of

    def check_enough_points(self, n: int) -> None:
        if n < 2 * self.K:
            raise ExplorerError(f"{self.name} with K={self.K} needs at least {2 * self.K} data points, got {n}")

    def held(self, frozen, name: str, k: int) -> bool:
        """Is entry k of parameter `name` frozen (as a whole, or as the entry name[k])?"""
        return name in frozen or f"{name}[{k}]" in frozen

    def new_weights(self, counts, theta, frozen):
        """w_k = N_k / N; with some weights frozen, the free ones share what is left, ∝ N_k
        (the maximiser of Σ_k N_k log w_k on that face of the simplex)."""
        if "weights" in frozen:
            return theta["weights"]
        held = np.array([self.held(frozen, "weights", k) for k in range(self.K)])
        weights = np.array(theta["weights"], dtype=float)
        left = 1.0 - weights[held].sum()
        free_counts = counts[~held]
        if free_counts.sum() > 0:
            weights[~held] = kept_positive(free_counts, left * free_counts / free_counts.sum())
        return weights

    def weight_warnings(self, theta) -> list[str]:
        return [f"component {k + 1} is empty (weight 0): it no longer explains any point"
                for k, w in enumerate(theta["weights"]) if w <= 0] + [
                f"component {k + 1}: weight held at the floor {PROBABILITY_FLOOR:.2g} (the smallest positive "
                f"number): its M-step value underflows to 0 while q still gives it points"
                for k, w in enumerate(theta["weights"]) if 0 < w <= PROBABILITY_FLOOR]

    def component_order(self, theta) -> np.ndarray:
        """The order of the components that `canonical` puts them in."""
        raise NotImplementedError

    def canonical(self, theta) -> tuple[dict, bool]:
        """θ with its components in `component_order`: the K! relabellings of a fixed point
        become one. Returns (θ, relabelled?)."""
        order = self.component_order(theta)
        if np.array_equal(order, np.arange(self.K)):
            return theta, False
        return self.theta({name: np.asarray(value)[order] for name, value in theta.items()}), True


class GaussianMixture(Mixture):
    """A mixture whose components have variances, held at the floor (see the module's note)."""
    noun = "component"                                            # what a warning calls a component
    floor_reason = "it collapsed onto a point"                   # why its variance reached the floor

    def smallest_variances(self, theta) -> np.ndarray:
        """Each component's smallest variance (2-D: the smallest eigenvalue of its covariance)."""
        return np.asarray(theta["variances"], dtype=float)

    def floor_warnings(self, theta) -> list[str]:
        """The weights' warnings and one per component whose variance is held at the floor
        (within rounding: an eigenvalue of a floored covariance comes back a few ulps off)."""
        return self.weight_warnings(theta) + [
            f"{self.noun} {k + 1}: variance held at the floor {self.floor:.3g} "
            f"({self.floor_reason}; the likelihood would otherwise go to infinity)"
            for k, v in enumerate(self.smallest_variances(theta)) if v <= self.floor * (1 + 1e-9)]

    def warnings(self, theta):
        return self.floor_warnings(theta)

    def collapsed(self, theta) -> str:
        """A component whose variance (2-D: smallest eigenvalue) is below the floor, which only
        a move that is not the M step (a gradient step) can make."""
        return collapse_message(self.smallest_variances(theta), self.floor, self.noun)

    def component_order(self, theta) -> np.ndarray:
        """By the means (by the first coordinate, then the second)."""
        return np.lexsort(np.asarray(theta["means"], dtype=float).reshape(self.K, -1).T[::-1])

    def random_points(self, rng) -> np.ndarray:
        """K data points drawn without replacement, as the starting means; K distinct values
        when the draw repeats a value (faithful's waiting times repeat: K = 3 drew 77, 79, 79).
        Two equal means with equal weights and variances stay equal under EM, a saddle it never
        leaves, so such a start is redrawn from the distinct values."""
        points = self.data[rng.choice(len(self.data), size=self.K, replace=False)]
        if len(np.unique(points, axis=0)) == self.K:
            return points
        distinct = np.unique(self.data, axis=0)
        if len(distinct) < self.K:
            return points            # fewer distinct values than components: nothing better to draw
        return distinct[rng.choice(len(distinct), size=self.K, replace=False)]
