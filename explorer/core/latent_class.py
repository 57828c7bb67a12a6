"""Models whose latent variable is one of K classes per data point (mixtures and kin).

Such a model only writes `log_joint(θ)`, the (K, N) array of log p(x_i, z_i = k | θ); this
class derives the rest of the contract from it, with q a (K, N) array of q(z_i = k):

    log p(X | θ)          = Σ_i logsumexp_k log p(x_i, z_i = k | θ)
    p(z_i = k | x_i, θ)   = exp(log p(x_i, k | θ) − logsumexp_k' log p(x_i, k' | θ))
    E_q[log p(X, Z | θ)]  = Σ_ik q_ik log p(x_i, k | θ)       (terms with q_ik = 0 count 0)
    H(q)                  = −Σ_ik q_ik log q_ik                 (0 log 0 = 0)

The (K, N) layout keeps each class's row contiguous, so the loops over K (never over the data)
run at memory speed. Work is done once per θ and once per q, keyed by identity (θ and q are
immutable): the posterior and log p(x_i | θ) of the last θ, and the sufficient statistics of the
last q. A model that defines `suff_stats` and `ecll_from_stats` (all built-in mixtures do) gets
E_q[log p(X, Z | θ)] from them in O(K) once the statistics are known, so the M step and the two
values of F in an iteration share one pass over q.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from .errors import ModelValueError
from .model import Model, add_stats, required, theta_key

TINY = np.finfo(float).tiny
BLOCK = 16384   # data points per block of the per-point loops: small enough to stay in cache
FUSED_BLOCK = 32768   # data points per block of a model's fused pass (its few arrays of this
                      # length fit a core's cache; fewer blocks, less Python per point)
GROUP = 64          # values multiplied together before one log (`sum_of_logs`)
SERIAL_DOT = 8192   # elements per BLAS dot: OpenBLAS's ddot spreads a longer one over threads,
                    # which on a busy machine costs a hundred times the arithmetic
SERIAL_GEMM = 1 << 18   # m·n·k of a matrix product up to which OpenBLAS keeps to one thread
GRID_CELLS = 1 << 20   # a landscape grid's log joints (G, K, N) normalised together up to this size


def _blocks(n: int, size: int = BLOCK):
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


@dataclass(frozen=True)
class Pass:
    """What one pass over the data at θ found."""
    theta: tuple                  # θ's value (model.theta_key)
    loglik: float
    posterior: np.ndarray
    entropy: float
    stats: object                 # statistics of the posterior (None: the model has none)
    joint: np.ndarray | None      # the log joint, kept for models without statistics


def normalise(joint: np.ndarray, out: np.ndarray) -> tuple[float, float]:
    """The posterior of a block of points from their log joint (K, n), written into `out`;
    returns the block's Σ_i log p(x_i | θ) and Σ_i H(q*_i). `joint` is overwritten. Per point,
    with b_ik = log p(x_i, k | θ) − max_k' log p(x_i, k' | θ):

        log p(x_i | θ) = max + log t_i,   t_i = Σ_k exp(b_ik),   q*_ik = exp(b_ik) / t_i,
        H(q*_i) = −Σ_k q*_ik log q*_ik = log t_i − Σ_k q*_ik b_ik.
    """
    if len(joint) == 2:
        done = _normalise_two(joint, out)
        if done is not None:
            return done
    top = joint.max(axis=0)
    top[~np.isfinite(top)] = 0.0          # a point impossible under θ keeps log p = −∞
    joint -= top
    np.exp(joint, out=out)
    total = out.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out *= np.reciprocal(total)       # one division per point, not K
        log_total = sum_of_logs(total, len(joint))
        return float(top.sum()) + log_total, log_total - _dot_where_positive(out, joint)


def _normalise_two(joint, out):
    """`normalise` for two classes with one exp per point instead of two: the likelier class
    has b = 0, the other b_i = −|d_i| with d_i = log p(x_i, 1 | θ) − log p(x_i, 2 | θ), so
    t_i = 1 + e^{b_i}. None when some point is impossible under θ (the general path handles it)."""
    top = np.maximum(joint[0], joint[1])
    if not np.isfinite(top).all():
        return None
    d = joint[0] - joint[1]
    b = -np.abs(d)
    e = np.exp(b)
    total = 1.0 + e
    likelier = 1.0 / total
    other = e * likelier
    first = d >= 0
    out[0] = np.where(first, likelier, other)
    out[1] = np.where(first, other, likelier)
    log_total = sum_of_logs(total, 2)
    return float(top.sum()) + log_total, log_total - _dot_where_positive(other, b)


def sum_of_logs(values: np.ndarray, k: int) -> float:
    """Σ log v for values v in [1, k] (or in [1/k, 1]): the logs of products of groups of
    values, few enough that each product stays within 2^±1000, so one log is taken per group
    instead of one per value (the product's rounding, about √group ulps, is far below the
    sum's). The groups are the columns of the values laid out as (group, n / group): the
    products are row-by-row multiplications, which vectorise (a product along a row does not)."""
    group = max(1, min(GROUP, int(1000 // np.log2(max(k, 2)))))
    whole = len(values) // group * group
    head = float(np.log(np.prod(values[:whole].reshape(group, -1), axis=0)).sum()) if whole else 0.0
    return head + float(np.log(values[whole:]).sum())


def serial_dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a b over arrays of the same shape (rows of a block: each row contiguous), in pieces
    short enough that BLAS computes each on this thread (see SERIAL_DOT)."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    n = a.shape[-1]
    return float(sum(np.vdot(ra[i:i + SERIAL_DOT], rb[i:i + SERIAL_DOT])
                     for ra, rb in zip(a, b) for i in range(0, n, SERIAL_DOT)))


def _dot_where_positive(q: np.ndarray, b: np.ndarray) -> float:
    """Σ q b with terms where q = 0 counting 0 (b may be −∞ there)."""
    total = serial_dot(q, b)
    if np.isnan(total):
        with np.errstate(invalid="ignore"):
            total = float(np.sum(np.where(q > 0, q * b, 0.0)))
    return total


class LatentClassModel(Model):
    latent_description = "z_i ∈ {1..K}, one class per data point"
    # The sufficient statistics that are sums of q times numbers ≥ 0 (N_k, heads, ...): never
    # negative, so where incremental EM's running sums round them below 0 they read 0.
    count_stats: tuple[str, ...] = ()
    OPTIONAL = {
        "prior_weights(θ)": "p(z = k | θ), the q a session starts from (default: uniform)",
        "posterior(θ)": "a closed-form E step (the checks compare it with the normalised log joint)",
        "simulate(θ, n, rng)": Model.OPTIONAL["simulate(θ, n, rng)"],
        "suff_stats(q, rows) and ecll_from_stats(θ, stats)": "E_q log p from sufficient statistics (one pass "
                                                             "over the data per EM iteration, fast landscapes)",
    }

    def __init__(self, data, **options):
        super().__init__(data, **options)
        self._theta_cache = None   # the Pass of the last θ

    @required
    def log_joint(self, theta, rows=slice(None)) -> np.ndarray:
        """(K, n): log p(x_i, z_i = k | θ) for the data points i in `rows` (a slice), as a new
        array the caller may overwrite. The core asks for blocks of rows, so that its per-point
        work stays in the processor's cache."""
        raise NotImplementedError

    def prior_weights(self, theta) -> np.ndarray:
        """p(z = k | θ), used as the starting q (a q that ignores the data)."""
        k = self.n_classes()
        return np.full(k, 1.0 / k)

    @required
    def n_classes(self) -> int:
        """K, the number of values z_i takes"""
        raise NotImplementedError

    def n_points(self) -> int:
        return len(self.data)

    def for_chunk(self, chunk) -> "LatentClassModel":
        """This model on a chunk of its data (data past memory, `core.chunked`): the constants
        fitted to the whole data kept (a mixture's centre and variance floor), the per-point
        arrays made for the chunk by the model's `prepare_points`, so that the chunk's
        log joint and statistics come from the model's own code."""
        if not self.takes_chunks:
            raise NotImplementedError(f"model {self.name} cannot take its data in chunks (it does not declare takes_chunks)")
        part = copy.copy(self)
        part._theta_cache = part._stats_cache = None
        part.data = part.prepare_points(np.asarray(chunk, dtype=float).reshape((-1,) + np.shape(self.data)[1:]))
        return part

    # ------------------------------------------------------------------------------------------
    def fused_pass(self, theta):
        """A model's own one pass at θ, or None (the generic pass: `log_joint`, `normalise`,
        `suff_stats` per block). A model returns (block, stats_of): `block(rows, out)` writes
        the posterior of the points in `rows` into `out` and returns (Σ log p(x_i | θ),
        Σ H(q*_i), raw statistics as one array), with θ's constants computed once per pass;
        `stats_of(Σ raw)` is the statistics `suff_stats` would give. The numbers must equal the
        generic pass's (tests/test_one_pass.py checks them to 1e-12)."""
        return None

    def _evaluate(self, theta) -> "Pass":
        """One pass over the data at θ, once per θ: log p(X | θ), the posterior q*, H(q*) and
        (for a model with statistics) the statistics of q*, so that an EM iteration reads its
        data once (see `normalise`)."""
        cached = getattr(self, "_theta_cache", None)
        key = theta_key(theta)
        if cached is not None and cached.theta == key:
            return cached
        n, k = self.n_points(), self.n_classes()
        posterior = np.empty((k, n))
        fused = self.fused_pass(theta)
        kept = None if self.has_stats or fused is not None else np.empty_like(posterior)   # for E_q log p without stats
        if fused is not None:
            loglik, entropy, stats = self._fused_sums(posterior, *fused)
        else:
            loglik = entropy = 0.0
            stats = None
            for rows in _blocks(n):          # blocks of points that stay in cache: one pass over memory
                block = self.log_joint(theta, rows)
                if kept is not None:
                    kept[:, rows] = block
                q = posterior[:, rows]
                block_loglik, block_entropy = normalise(block, q)
                loglik += block_loglik
                entropy += block_entropy
                if self.has_stats:
                    part = self.suff_stats(q, rows)
                    stats = part if stats is None else add_stats(stats, part)
        if np.isnan(loglik) or loglik == np.inf:
            self._refuse_log_joint(theta)
        posterior.setflags(write=False)   # q is shared by states: immutable
        self._theta_cache = Pass(key, loglik, posterior, entropy, stats, kept)
        return self._theta_cache

    @staticmethod
    def _fused_sums(posterior, block, stats_of):
        """`_evaluate`'s sums by a model's fused pass: Σ log p, Σ H and the statistics (summed
        as raw arrays), the posterior written block by block."""
        loglik = entropy = 0.0
        raw = None
        for rows in _blocks(posterior.shape[1], FUSED_BLOCK):
            block_loglik, block_entropy, part = block(rows, posterior[:, rows])
            loglik += block_loglik
            entropy += block_entropy
            raw = part if raw is None else raw + part
        return loglik, entropy, stats_of(raw)

    def _refuse_log_joint(self, theta):
        """log p came out NaN or +∞: name the first entry of the log joint that is NaN or +∞."""
        joint = np.asarray(self.log_joint(theta), dtype=float)
        bad = np.argwhere(np.isnan(joint) | (joint == np.inf))
        where = "" if not len(bad) else (f" for point {bad[0][1] + 1} (x = {np.asarray(self.data)[bad[0][1]]}), "
                                          f"class {bad[0][0] + 1}: {joint[tuple(bad[0])]}")
        raise ModelValueError("log_joint(θ)", f"gave a value that is NaN or +∞{where} ({len(bad)} such entries; "
                                              f"log p(x_i, z_i = k | θ) must be a number or −∞)", theta)

    def stats(self, q):
        """The statistics of q; those of the last θ's posterior come from its pass. (They are
        remembered apart, as an iteration needs both: F(θ', q) after the pass at θ'.)"""
        done = getattr(self, "_theta_cache", None)
        if done is not None and q is done.posterior and done.stats is not None:
            self.remember_stats(q, done.stats)
            return done.stats
        return super().stats(q)

    def grid_passes(self, thetas: list) -> list[tuple[float, object, float]]:
        """`Model.grid_passes` with the posteriors of the whole grid normalised together: the
        grid's log joints as one (G, K, N) array, so each step of `normalise` is one numpy call
        for the grid instead of one per θ (the grid of a small data set was 50 passes of
        Python-bound work, most of an M step's picture). Per θ_g and point, with b = log joint
        − its max over k and t = Σ_k e^b: log p(x_i | θ_g) = max + log t, q = e^b / t,
        H = log t − Σ_k q b. A grid too large for one array, or with a point impossible under
        some θ_g, takes one pass per θ."""
        n, k = self.n_points(), self.n_classes()
        if not self.has_stats or len(thetas) * k * n > GRID_CELLS:
            return super().grid_passes(thetas)
        joint = np.stack([self.log_joint(theta) for theta in thetas])
        if not np.isfinite(joint).all():
            return super().grid_passes(thetas)
        top = joint.max(axis=1)
        joint -= top[:, None]
        q = np.exp(joint)
        total = q.sum(axis=1)
        q /= total[:, None]
        log_total = np.log(total).sum(axis=1)
        loglik = top.sum(axis=1) + log_total
        entropy = log_total - np.einsum("gkn,gkn->g", q, joint)
        return [(float(loglik[g]), self.suff_stats(q[g]), float(entropy[g])) for g in range(len(thetas))]

    def posterior_block(self, theta, rows) -> np.ndarray:
        """(K, len(rows)): p(z_i | x_i, θ) for the points in `rows` only (incremental EM)."""
        block = self.log_joint(theta, rows)
        q = np.empty_like(block)
        normalise(block, q)
        return q

    def loglik(self, theta) -> float:
        return self._evaluate(theta).loglik

    def posterior(self, theta) -> np.ndarray:
        return self._evaluate(theta).posterior

    def expected_complete_loglik(self, theta, q) -> float:
        if self.has_stats:
            return self.ecll_from_stats(theta, self.stats(q))
        joint = self._evaluate(theta).joint
        total = float(np.einsum("kn,kn->", q, joint))
        if np.isnan(total):   # 0 · (−∞) where a class is impossible: such terms count 0
            with np.errstate(invalid="ignore"):
                total = float(np.sum(np.where(q > 0, q * joint, 0.0)))
        return total

    def joint_ecll(self, theta, q) -> float:
        """Σ_ik q_ik log p(x_i, k | θ) straight from the log joint (checks the statistics)."""
        joint = self.log_joint(theta)
        with np.errstate(invalid="ignore"):
            return float(np.sum(np.where(q > 0, q * joint, 0.0)))

    def entropy(self, q) -> float:
        """H(q) = −Σ q log q, with 0 log 0 = 0 (as scipy's xlogy, but faster on large q)."""
        done = getattr(self, "_theta_cache", None)
        if done is not None and q is done.posterior:
            return done.entropy
        total = 0.0
        for block in _blocks(np.shape(q)[-1]):
            part = q[..., block]
            log_q = np.maximum(part, TINY)     # where q = 0 the term is 0 · log(TINY) = 0
            np.log(log_q, out=log_q)
            total -= serial_dot(part, log_q)      # on this thread (SERIAL_DOT)
        return total

    def initial_q(self, theta) -> np.ndarray:
        weights = self.prior_weights(theta)
        return np.repeat(weights[:, None], self.n_points(), axis=1)

    def random_q(self, rng) -> np.ndarray:
        return rng.dirichlet(np.ones(self.n_classes()), size=self.n_points()).T.copy()
