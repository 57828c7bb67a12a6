"""A hidden Markov model with Gaussian emissions (Baum–Welch is its EM; Bishop §13.2).

A chain z_1 … z_T of K states, z_1 ~ π, z_{t+1} | z_t ~ A[z_t], x_t | z_t = k ~ N(μ_k, σ²_k).

The posterior of z is itself a Markov chain, so q is a chain too: its one-step marginals
γ_t(k) = q(z_t = k) and pair marginals ξ_t(i, j) = q(z_t = i, z_{t+1} = j). Then

    E_q log p(X, Z | θ) = Σ_k γ_1(k) log π_k + Σ_ij (Σ_t ξ_t(i, j)) log A_ij
                          + Σ_t Σ_k γ_t(k) log N(x_t | μ_k, σ²_k)
    H(q)                = Σ_{t<T} H(ξ_t) − Σ_{1<t<T} H(γ_t)        (the entropy of a Markov chain)

E step (forward–backward). With M_t = A diag(b_t), b_t(k) = p(x_t | z_t = k):
α_t = α_1 M_2 ⋯ M_t, β_t = M_{t+1} ⋯ M_T 1, log p(X | θ) = log Σ_k α_T(k), γ_t ∝ α_t ∘ β_t and
ξ_t(i, j) ∝ α_t(i) A_ij b_{t+1}(j) β_{t+1}(j). Both recursions run chunked (`scaled_scans`:
the chunks side by side, vectorised, instead of a Python loop over t), every step normalised,
so nothing under- or overflows; the E step needs only Σ_t ξ_t, which it sums without making
the K × K × (T − 1) array of ξ (a ChainQ makes that when asked). A θ with a transition
probability below SAFE_TRANSITION (zeros included) runs them in log space instead
(`log_forward_backward`): exact for every valid θ.

M step: π = γ_1, A_ij = Σ_t ξ_t(i, j) / Σ_t γ_t(i) (t < T), and the weighted means and variances
of a mixture (with its variance floor). A probability whose expected count is positive but whose
quotient underflows is held at the smallest positive number, with a warning (`kept_positive`).

The mean-field family q(z) = Π_t q_t(z_t) cannot carry the chain's correlations, so its gap
stays open (Turner & Sahani 2011, "Two problems with variational EM for time series models").
"""
from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from ..core.constraints import PROBABILITY_FLOOR, kept_positive
from ..core.errors import ExplorerError
from ..core.latent_class import SERIAL_GEMM, serial_dot, sum_of_logs
from ..core.model import Model, Option, Param, theta_key
from ..datasets import builtin_columns
from .gaussian_mixture import VARIANCE_FLOOR, collapse_message

LOG_2PI = np.log(2 * np.pi)
TINY = np.finfo(float).tiny


class ChainQ:
    """A Markov-chain q over z_1 … z_T by its marginals: gamma (K, T), γ_t(k) = q(z_t = k), and
    xi (K, K, T − 1), ξ_t(i, j) = q(z_t = i, z_{t+1} = j), with their sum over t, `transitions`
    (K, K). ξ is given as an array, or (`ChainQ.filtered`, the E step's posterior) made when
    asked for from the filtered α̂_t ∝ p(z_t, x_1 … x_t) and A (the pairs given the next state):

        ξ_t(i, j) = α̂_t(i) A_ij γ_{t+1}(j) / Σ_i' α̂_t(i') A_i'j

    since the E step itself needs only their sum, and K²T numbers cost more than the rest of it."""

    def __init__(self, gamma: np.ndarray, xi: np.ndarray):
        self.gamma, self.given_xi, self.transitions = gamma, xi, xi.sum(axis=2)
        self._freeze()

    @classmethod
    def filtered(cls, gamma, alpha_chunks, alpha_rest, transition, transitions) -> "ChainQ":
        """The E step's posterior, with α̂ as `scaled_scans` leaves it: its chunks' steps side by
        side (K, L, chunks), then the rest (K, T − L·chunks)."""
        q = cls.__new__(cls)
        q.gamma, q.alpha_chunks, q.alpha_rest, q.transitions = gamma, alpha_chunks, alpha_rest, transitions
        q.transition = np.array(transition, dtype=float)
        q._freeze()
        return q

    def _freeze(self):
        for array in vars(self).values():
            array.setflags(write=False)

    @property
    def xi(self) -> np.ndarray:
        if "given_xi" in vars(self):
            return self.given_xi
        k, a = len(self.gamma), self.transition
        alpha = np.concatenate([self.alpha_chunks.transpose(0, 2, 1).reshape(k, -1), self.alpha_rest[:, :-1]], axis=1)
        xi = alpha[:, None, :] * a[:, :, None]
        xi *= (self.gamma[:, 1:] / (a.T @ alpha))[None, :, :]
        return xi


def product_q(gamma: np.ndarray) -> ChainQ:
    """The factorised q(z) = Π_t q_t(z_t): its pair marginals are outer products."""
    return ChainQ(gamma, gamma[:, None, :-1] * gamma[None, :, 1:])


# ----- the forward and backward recursions ---------------------------------------------------------
CHUNK = 64   # steps per chunk (at most, in scaled_scans): the chunks' recursions run side by side, vectorised


STACK_CHUNK = 8   # the same for a stack of the chunks' products: short arrays, so short chunks


def scan_vectors(v0: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """v_t ∝ v_{t−1} M_t for t = 1 … n, from a normalised v0 (K,), over a stack of matrices
    (K, K, n): the normalised v_t (K, n).

    Without a Python loop over n: the steps are cut into chunks of STACK_CHUNK; the product of
    each chunk's matrices is taken for all chunks at once, the vectors entering the chunks
    follow by the same scan over those products (recursively, STACK_CHUNK times shorter), and
    then every chunk runs its steps side by side. Each step is normalised, so nothing under- or
    overflows."""
    k, n = len(v0), stack.shape[2]
    if n <= STACK_CHUNK:
        out, v = np.empty((k, n)), v0
        for t in range(n):
            v = v @ stack[:, :, t]
            v = out[:, t] = v / v.sum()
        return out
    chunks = -(-n // STACK_CHUNK)
    matrix_at = Stack(stack).laid(chunks, STACK_CHUNK)
    product = matrix_at(0)
    for position in range(1, STACK_CHUNK):
        product = np.einsum("ijc,jkc->ikc", product, matrix_at(position))
        product = product / product.sum(axis=(0, 1))
    after = scan_vectors(v0, product)                          # the vector leaving each chunk
    v = np.concatenate([v0[:, None], after[:, :-1]], axis=1)   # ... and so entering the next
    out = np.empty((k, STACK_CHUNK, chunks))
    for position in range(STACK_CHUNK):
        v = np.einsum("ic,ijc->jc", v, matrix_at(position))
        v = out[:, position] = v / v.sum(axis=0)
    return out.transpose(0, 2, 1).reshape(k, -1)[:, :n]


def identity(k: int, log: bool = False) -> np.ndarray:
    """The K × K identity matrix, or in log space its logarithm (0 on the diagonal, −∞ off)."""
    return np.where(np.eye(k) > 0, 0.0, -np.inf) if log else np.eye(k)


class Stack:
    """Step matrices stored as a stack (K, K, n) (their logarithms, with log=True)."""

    def __init__(self, stack, log: bool = False):
        self.stack, self.n, self.log = stack, stack.shape[2], log

    def matrix(self, t):
        return self.stack[:, :, t]

    def laid(self, chunks, length=CHUNK):
        """The chunks (of `length` steps) side by side, as a function: position l → the l-th
        matrix of every chunk (K, K, C); the last chunk is padded with identities (they change
        neither a vector nor its sum)."""
        k, pad = self.stack.shape[0], chunks * length - self.n
        stack = self.stack
        if pad:
            stack = np.concatenate([stack, np.broadcast_to(identity(k, self.log)[:, :, None], (k, k, pad))], axis=2)
        laid = np.ascontiguousarray(stack.reshape(k, k, chunks, length).transpose(0, 1, 3, 2))  # (K, K, L, C)
        return lambda position: laid[:, :, position]


class ChainSteps:
    """The log-space recursion's step matrices log M_t = log A + log diag(b_t), log A_ij + log b_t(j)
    (with transpose=True their transposes, at (j, i): the backward recursion), made when needed
    from log A (K, K) and log b (K, n) rather than stored as (K, K, n)."""

    def __init__(self, log_transition, log_b, transpose=False):
        self.a, self.b, self.n = (log_transition.T if transpose else log_transition), log_b, log_b.shape[1]
        self.transpose = transpose

    def _make(self, log_b):
        return np.add(self.a[:, :, None], log_b[:, None, :] if self.transpose else log_b[None, :, :])

    def matrix(self, t):
        return self._make(self.b[:, t:t + 1])[:, :, 0]

    def laid(self, chunks):
        """As Stack.laid, making each position's matrices when asked (the padding's log b is 0,
        and its matrices the identity)."""
        pad = chunks * CHUNK - self.n
        b = np.concatenate([self.b, np.zeros((len(self.b), pad))], axis=1) if pad else self.b
        laid = np.ascontiguousarray(b.reshape(len(b), chunks, CHUNK).transpose(0, 2, 1))    # (K, L, C)
        unit = identity(len(self.a), log=True)

        def matrix(position):
            made = self._make(laid[:, position])
            if (chunks - 1) * CHUNK + position >= self.n:     # the last chunk's padding
                made[:, :, -1] = unit
            return made
        return matrix


def _xlogy_sum(x, y) -> float:
    """Σ x log y with terms where x = 0 counting 0 (y may be 0 there)."""
    with np.errstate(divide="ignore"):
        return float(np.sum(np.where(x > 0, x * np.log(np.where(x > 0, y, 1.0)), 0.0)))


# The scaled recursions are exact to rounding when every transition probability is at least
# SAFE_TRANSITION: a path dropped by underflow (relative weight < 1e-308) can never come back to
# matter by more than a factor 1/A_min, since any other path can switch onto its future. A chain
# with smaller or zero transitions (a reducible chain, or an M step that emptied a transition)
# runs the recursions in log space instead, which is exact for every valid θ.
SAFE_TRANSITION = 1e-100


def forward_backward(start, transition, log_emission):
    """(log p(X | θ), the posterior chain q* (a ChainQ), H(q*)) for a chain with start π (K),
    transitions A (K, K) and log b_t(k) given as log_emission (K, T). Zeros in π and A are
    exact: the posterior puts no mass there, and they contribute 0 to H (0 log 0 = 0).

    Scaled recursions (when min A ≥ SAFE_TRANSITION): α_1 ∝ π ∘ b_1 taken in log space, then
    with b̃_t = b_t e^{−s_t} (s_t = max_k log b_t(k)) and α̂_t, β̂_t normalised (`scaled_scans`),
    c_t = Σ_j (α̂_{t−1} A)_j b̃_t(j) and log p = log Σ_k π_k b_1(k) + Σ_{t>1} (log c_t + s_t).
    The posterior's entropy is log p − E_q* log p(X, Z | θ), summed as the O(1) terms
    log c_t − Σ_ij ξ_t(i,j) log A_ij − Σ_k γ_t(k) log b̃_t(k) (the s_t cancel), so it keeps its
    digits on a long series. Otherwise `log_forward_backward`."""
    if np.min(transition) < SAFE_TRANSITION:
        return log_forward_backward(start, transition, log_emission)
    shift = np.max(log_emission, axis=0)
    log_b = log_emission - shift
    with np.errstate(divide="ignore"):
        log_first = np.log(start) + log_b[:, 0]       # a zero π_k is exactly 0 here
    top = log_first.max()
    first = np.exp(log_first - top)
    c0 = first.sum()
    gamma, alphas, transitions, logs = scaled_scans(first / c0, transition, log_b)
    scaled = float(top + np.log(c0) + logs)            # log p − Σ_t s_t
    entropy = (scaled - _xlogy_sum(gamma[:, 0], start) - _xlogy_sum(transitions, transition)
               - serial_dot(gamma, log_b))
    return scaled + float(shift.sum()), ChainQ.filtered(gamma, *alphas, transition, transitions), entropy


def chunk_length(t: int) -> int:
    """Steps per chunk of `scaled_scans` on a chain of t steps: a power of 2 near √t / 16, from
    STACK_CHUNK to CHUNK, weighing the numpy calls made per step of a chunk (about a dozen)
    against the length of the arrays they work on (t / L)."""
    return int(min(CHUNK, max(STACK_CHUNK, 2 ** round(np.log2(np.sqrt(t) / 16)))))


def scaled_scans(alpha0, transition, log_b):
    """The scaled forward and backward recursions over b̃ = exp(log_b) (K, T), from a normalised
    α̂_1 = alpha0:

        α̂_t ∝ (α̂_{t−1} A) ∘ b̃_t,   u_t = A (b̃_{t+1} ∘ β̂_{t+1}),  β̂_t = u_t / Σ_k u_t(k),  β̂_T = 1/K,

    with γ_t = α̂_t ∘ u_t / g_t (g_t = Σ_k α̂_t(k) u_t(k)) and Σ_t ξ_t = A ∘ Σ_t (α̂_t / g_t)(b̃_{t+1} ∘ β̂_{t+1})ᵀ,
    the pairs summed without being made (`_pair_sums`). Returns (γ (K, T), α̂ as (the chunks'
    (K, L, chunks), the rest's (K, T − L·chunks)), Σ_t ξ_t (K, K), Σ_t log c_t).

    Without a Python loop over T: the steps 2 … T are cut into chunks of L = `chunk_length(T)`
    steps (the steps left after the last whole chunk run one by one). The products of each chunk's step matrices
    M_t = A diag(b̃_t) are taken once, for all chunks at once, and serve both directions: the
    vectors entering each chunk, from the left and from the right, follow by `scan_vectors` over
    them, L times shorter. Then all chunks run their L steps side by side, in both
    directions. Each step is normalised, so nothing under- or overflows."""
    k, t = log_b.shape
    length = chunk_length(t)
    chunks = (t - 1) // length
    main = chunks * length                               # α̂_1 … α̂_main by the chunks
    b = np.exp(log_b[:, main:])                         # ... and b̃ of the rest, from t = main + 1
    rest_alpha, rest_u, rest_w = np.empty((k, t - main)), np.empty((k, t - main)), np.zeros((k, t - main))
    if chunks:
        laid = np.empty((k, length, chunks))                      # b̃ at t = cL + l + 2 (l, c)
        np.exp(log_b[:, 1:main + 1].reshape(k, chunks, length).transpose(0, 2, 1), out=laid)
        product = transition[:, :, None] * laid[None, :, 0]       # each chunk's M_t product, normalised
        for position in range(1, length):
            product = np.matmul(transition.T, product)           # P A, for every chunk at once
            product *= laid[None, :, position]
            product /= product.sum(axis=(0, 1))
        entering = scan_vectors(alpha0, product)               # α̂ after each chunk
        rest_alpha[:, 0] = entering[:, -1]
    else:
        rest_alpha[:, 0] = alpha0
    logs = 0.0
    for step in range(t - main - 1):                    # the rest, forward
        v = (rest_alpha[:, step] @ transition) * b[:, step + 1]
        total = v.sum()
        rest_alpha[:, step + 1], logs = v / total, logs + np.log(total)
    rest_u[:, -1] = beta = np.full(k, 1.0 / k)
    for step in range(t - main - 2, -1, -1):            # ... and backward (the last step has no next: w = 0)
        rest_w[:, step] = b[:, step + 1] * beta
        rest_u[:, step] = transition @ rest_w[:, step]
        beta = rest_u[:, step] / rest_u[:, step].sum()
    pairs, gamma = np.zeros((k, k)), np.empty((k, t))
    gamma[:, main:] = _pair_sums(rest_alpha, rest_u, rest_w, pairs)
    if not chunks:
        return gamma, (np.empty((k, length, 0)), rest_alpha), transition * pairs, logs
    alpha = np.empty((k, length, chunks))                # position l of chunk c: α̂ at t = cL + l + 1
    alpha[:, 0, 0], alpha[:, 0, 1:] = alpha0, entering[:, :-1]
    totals = np.empty((length, chunks))
    for position in range(length):                       # (the last position's α̂ is the next chunk's first)
        v = alpha[:, position + 1] if position + 1 < length else np.empty((k, chunks))
        np.matmul(transition.T, alpha[:, position], out=v)
        v *= laid[:, position]
        totals[position] = v.sum(axis=0)
        v /= totals[position]
    logs += sum_of_logs(totals.reshape(-1), 1 / transition.min())    # c_t ∈ [min A, 1]
    leaving = scan_vectors(beta, product.transpose(1, 0, 2)[:, :, ::-1])   # β̂ at each chunk's start, last first
    beta = np.concatenate([leaving[:, -2::-1], beta[:, None]], axis=1)       # β̂ at each chunk's end
    u, w = np.empty((k, length, chunks)), np.empty((k, length, chunks))
    for position in range(length - 1, -1, -1):
        np.multiply(laid[:, position], beta, out=w[:, position])
        np.matmul(transition, w[:, position], out=u[:, position])
        beta = u[:, position] / u[:, position].sum(axis=0)
    in_time_order = gamma[:, :main].reshape(k, chunks, length)      # a view: it splits the contiguous axis
    in_time_order[:] = _pair_sums(alpha, u, w, pairs).transpose(0, 2, 1)
    return gamma, (alpha, rest_alpha), transition * pairs, logs


def _pair_sums(alpha, u, w, pairs):
    """γ = α̂ ∘ u / g (g = Σ_k α̂(k) u(k)) at the steps of `alpha` and `u` (K, ...), written over u,
    and Σ (α̂_t / g_t) w_{t+1}ᵀ added into `pairs` (K, K), where w (as u; spent) holds the next
    steps' b̃ ∘ β̂, 0 where there is none."""
    k = len(alpha)
    gamma = np.multiply(alpha, u, out=u)
    g = gamma.sum(axis=0)
    gamma /= g
    w /= g
    alpha, w = alpha.reshape(k, -1), w.reshape(k, -1)
    step = max(1, SERIAL_GEMM // (k * k))                 # products BLAS keeps on this thread
    for start in range(0, alpha.shape[1], step):          # (BLAS sums in blocks: einsum's one running sum lost digits)
        pairs += alpha[:, start:start + step] @ w[:, start:start + step].T
    return gamma


def _log_vecmat(log_v, log_m):
    """log Σ_i exp(log_v[i] + log_m[i, j]) for each j (and each chunk c, with log_v (K, C) and
    log_m (K, K, C)): exact where terms are −∞ (an impossible state or transition) and without
    underflow however far apart the terms are."""
    w = log_v[:, None] + log_m
    top = w.max(axis=0)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.log(np.exp(w - top).sum(axis=0)) + top


def _log_matmul(log_p, log_m):
    """(K, K, C) products in log space: log Σ_j exp(log_p[i, j, c] + log_m[j, k, c])."""
    w = log_p[:, :, None, :] + log_m[None, :, :, :]
    top = w.max(axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.log(np.exp(w - top[:, None]).sum(axis=1)) + top


def log_scan(v0: np.ndarray, steps) -> np.ndarray:
    """log v_t = logsumexp_i(log v_{t−1}(i) + log M_t(i, ·)) for t = 1 … n, from log v0 (K,):
    the (K, n) log vectors, unnormalised (log space needs no rescaling). As `scan_vectors`,
    without a Python loop over n: chunks' products in log space (`_log_matmul`), the vectors
    entering the chunks by the same scan one level up, then the chunks side by side."""
    k, n = len(v0), steps.n
    if n <= CHUNK:
        out, v = np.empty((k, n)), v0
        for t in range(n):
            v = out[:, t] = _log_vecmat(v, steps.matrix(t))
        return out
    chunks = -(-n // CHUNK)
    matrix_at = steps.laid(chunks)
    product = matrix_at(0)
    for position in range(1, CHUNK):
        product = _log_matmul(product, matrix_at(position))
    after = log_scan(v0, Stack(product, log=True))   # the vector leaving each chunk
    v = np.concatenate([v0[:, None], after[:, :-1]], axis=1)   # ... and so entering the next
    out = np.empty((k, CHUNK, chunks))
    for position in range(CHUNK):
        v = out[:, position] = _log_vecmat(v, matrix_at(position))
    return out.transpose(0, 2, 1).reshape(k, -1)[:, :n]


def log_forward_backward(start, transition, log_emission):
    """forward_backward in log space (when some A_ij < SAFE_TRANSITION), by `log_scan`:

        log α_1 = log π + log b_1,  log α_t(j) = logsumexp_i(log α_{t−1}(i) + log A_ij) + log b_t(j)
        log β_T = 0,               log β_t(i) = logsumexp_j(log A_ij + log b_{t+1}(j) + log β_{t+1}(j))
        log p = logsumexp_k log α_T(k),  γ_t = exp(log α_t + log β_t − log p),
        ξ_t(i, j) = exp(log α_t(i) + log A_ij + log b_{t+1}(j) + log β_{t+1}(j) − log p)."""
    k, t = log_emission.shape
    with np.errstate(divide="ignore"):
        log_pi, log_a = np.log(start), np.log(transition)
        log_alpha, log_beta = np.empty((k, t)), np.zeros((k, t))
        log_alpha[:, 0] = log_pi + log_emission[:, 0]
        log_alpha[:, 1:] = log_scan(log_alpha[:, 0], ChainSteps(log_a, log_emission[:, 1:]))
        backward = log_scan(np.zeros(k), ChainSteps(log_a, log_emission[:, :0:-1], transpose=True))
        log_beta[:, :-1] = backward[:, ::-1]
    top = log_alpha[:, -1].max()
    loglik = float(top + np.log(np.exp(log_alpha[:, -1] - top).sum()))
    gamma = np.exp(log_alpha + log_beta - loglik)
    gamma /= gamma.sum(axis=0)
    log_xi = (log_alpha[:, None, :-1] + log_a[:, :, None]
              + (log_emission[:, 1:] + log_beta[:, 1:])[None, :, :] - loglik)
    xi = np.exp(log_xi)
    xi /= xi.sum(axis=(0, 1))
    q = ChainQ(gamma, xi)
    entropy = (loglik - _xlogy_sum(gamma[:, 0], start) - _xlogy_sum(q.transitions, transition)
               - float(np.vdot(gamma, log_emission)))
    return loglik, q, entropy


def _entropy(p: np.ndarray, axes) -> np.ndarray:
    return -xlogy(p, p).sum(axis=axes)


class HMM(Model):
    name = "hmm"
    title = "Hidden Markov model, Gaussian emissions"
    option_specs = (Option("K", 2, 1, 8, "number of hidden states"),)
    datasets = {"geyser": "Old Faithful, 299 waiting times (min) in time order, 1–15 August 1985 "
                          "(Azzalini & Bowman 1990; R MASS::geyser)"}
    default_dataset = "geyser"
    data_view = "series"
    latent_description = "the hidden state z_t behind each observation, a Markov chain"
    mean_field_formula = (r"q(z) = \prod_t q_t(z_t),\quad q_t(z_t) \propto "
                          r"\exp \mathbb{E}_{q_{t-1} q_{t+1}}[\log p(X, z \mid \theta)]")
    mean_field_why_gap = ("q(z) must factorise over time, but the posterior chains each state to "
                          "its neighbours, so q cannot equal it and KL > 0 remains")

    @property
    def K(self) -> int:
        return self.options["K"]

    def params(self):
        k = self.K
        return [Param("startprob", (k,), "simplex", r"\pi"), Param("transmat", (k, k), "simplex", "A"),
                Param("means", (k,), "real", r"\mu"), Param("variances", (k,), "positive", r"\sigma^2")]

    # ----- data ----------------------------------------------------------------------------------
    @classmethod
    def load_dataset(cls, name, **options):
        if name != "geyser":
            return super().load_dataset(name)
        return builtin_columns("geyser.csv", "waiting")

    @classmethod
    def data_from_table(cls, header, values, **options):
        if values.shape[1] != 1:
            raise ExplorerError(f"hmm data must be one column (a series in time order), got {values.shape[1]} "
                                f"({', '.join(header)})")
        return values[:, 0]

    @classmethod
    def synthetic(cls, n, seed, separation=3.0, K=2, **options):
        """A K-state chain that stays put with probability 0.9, means `separation` apart, unit variances."""
        K = cls.parse_options({"K": K})["K"]
        rng = np.random.default_rng(seed)
        stay = 0.9 if K > 1 else 1.0
        transition = np.full((K, K), (1 - stay) / max(K - 1, 1)) + np.eye(K) * (stay - (1 - stay) / max(K - 1, 1))
        states = np.empty(n, dtype=int)
        states[0] = rng.integers(K)
        draws = rng.uniform(size=n)
        cumulative = transition.cumsum(axis=1)
        for t in range(1, n):
            states[t] = min(int(np.searchsorted(cumulative[states[t - 1]], draws[t])), K - 1)
        return rng.normal(separation * states, 1.0)

    def validate_data(self, data):
        x = np.asarray(data, dtype=float)
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 1:
            raise ExplorerError(f"hmm data must be one series of numbers, got shape {list(x.shape)}")
        bad = np.flatnonzero(~np.isfinite(x))
        if len(bad):
            raise ExplorerError(f"hmm data row {bad[0] + 1} is not a finite number")
        if len(x) < 2:
            raise ExplorerError(f"hmm data must be a series of at least 2 observations, got {len(x)}: "
                                f"a chain of one step has no transitions to learn")
        if np.ptp(x) == 0:
            raise ExplorerError("hmm data has a single distinct value: the emission variances would be 0")
        self.center = float(x.mean())
        self.floor = VARIANCE_FLOOR * float(x.var())
        return x

    # ----- the contract ----------------------------------------------------------------------------
    def log_emission(self, theta) -> np.ndarray:
        """(K, T): log N(x_t | μ_k, σ²_k) = −(x_t − μ_k)² / (2σ²_k) − log(2πσ²_k) / 2, made in place."""
        mu, var = theta["means"][:, None], theta["variances"][:, None]
        out = np.subtract(self.data[None, :], mu)
        np.square(out, out=out)
        out *= -0.5 / var
        out -= 0.5 * (LOG_2PI + np.log(var))
        return out

    def _forward_backward(self, theta):
        """(log p, the posterior chain, its entropy), once per θ."""
        cached = getattr(self, "_chain_cache", None)
        key = theta_key(theta)
        if cached is None or cached[0] != key:
            loglik, q, entropy = forward_backward(theta["startprob"], theta["transmat"], self.log_emission(theta))
            if not (np.isfinite(loglik) and np.isfinite(entropy)):
                raise RuntimeError(f"hmm: forward–backward gave log p = {loglik} at θ = "
                                  f"{ {k: np.asarray(v).tolist() for k, v in theta.items()} } (a bug: "
                                  f"every valid θ has a finite log p)")
            cached = self._chain_cache = (key, loglik, q, entropy)
        return cached[1:]

    def loglik(self, theta):
        return self._forward_backward(theta)[0]

    def posterior(self, theta):
        return self._forward_backward(theta)[1]

    def suff_stats(self, q, rows=slice(None)):
        d = self.data - self.center
        return {"first": q.gamma[:, 0], "transitions": q.transitions, "count": q.gamma.sum(axis=1),
                "s1": np.array([serial_dot(g, d) for g in q.gamma]),              # on this thread
                "s2": np.array([serial_dot(g, d * d) for g in q.gamma])}

    def ecll_from_stats(self, theta, s):
        m = theta["means"] - self.center
        var = theta["variances"]
        square = s["s2"] - 2 * m * s["s1"] + m * m * s["count"]
        emission = np.sum(-0.5 * s["count"] * (LOG_2PI + np.log(var)) - 0.5 * square / var)
        return float(np.sum(xlogy(s["first"], theta["startprob"])) + np.sum(xlogy(s["transitions"], theta["transmat"]))
                     + emission)

    def expected_complete_loglik(self, theta, q):
        return self.ecll_from_stats(theta, self.stats(q))

    def entropy(self, q):
        cached = getattr(self, "_chain_cache", None)
        if cached is not None and q is cached[2]:
            return cached[3]
        if q.gamma.shape[1] == 1:
            return float(_entropy(q.gamma, 0).sum())
        return float(_entropy(q.xi, (0, 1)).sum() - _entropy(q.gamma[:, 1:-1], 0).sum())

    def m_step(self, q, theta, frozen=frozenset()):
        s = self.stats(q)
        new = {name: np.array(theta[name], dtype=float) for name in theta}
        if "startprob" not in frozen:
            new["startprob"] = kept_positive(s["first"], s["first"] / s["first"].sum())
        if "transmat" not in frozen:
            rows = s["transitions"].sum(axis=1)
            full = rows > 0                      # a state never left keeps its row
            new["transmat"][full] = kept_positive(s["transitions"][full], s["transitions"][full] / rows[full, None])
        count = s["count"]
        full = count > 0
        if "means" not in frozen:
            new["means"][full] = self.center + s["s1"][full] / count[full]
        if "variances" not in frozen:
            m = new["means"] - self.center
            square = s["s2"] - 2 * m * s["s1"] + m * m * count
            new["variances"][full] = np.maximum(self.floor, square[full] / count[full])
        return new

    def init_theta(self, rng):
        k = self.K
        stay = 0.8 if k > 1 else 1.0
        transition = np.full((k, k), (1 - stay) / max(k - 1, 1)) + np.eye(k) * (stay - (1 - stay) / max(k - 1, 1))
        spread = float(self.data.std())
        means = np.quantile(self.data, (np.arange(k) + 0.5) / k) + 0.2 * spread * rng.normal(size=k)
        return {"startprob": np.full(k, 1.0 / k), "transmat": transition, "means": np.sort(means),
                "variances": np.full(k, self.data.var() / k)}

    def simulate(self, theta, n, rng):
        states = np.empty(n, dtype=int)
        states[0] = rng.choice(self.K, p=theta["startprob"])
        for t in range(1, n):
            states[t] = rng.choice(self.K, p=theta["transmat"][states[t - 1]])
        return rng.normal(theta["means"][states], np.sqrt(theta["variances"][states]))

    def initial_q(self, theta):
        """Every z_t uniform and independent: a q that has looked at neither data nor θ."""
        return product_q(np.full((self.K, len(self.data)), 1.0 / self.K))

    def random_q(self, rng):
        """A random Markov chain: a random first marginal and a random transition kernel per step."""
        k, t = self.K, len(self.data)
        gamma = np.empty((k, t))
        gamma[:, 0] = rng.dirichlet(np.ones(k))
        kernels = rng.dirichlet(np.ones(k), size=(t - 1, k)).transpose(1, 2, 0)     # (K, K, T − 1)
        xi = np.empty((k, k, t - 1))
        for step in range(t - 1):
            xi[:, :, step] = gamma[:, step, None] * kernels[:, :, step]
            gamma[:, step + 1] = xi[:, :, step].sum(axis=0)
        return ChainQ(gamma, xi)

    def mean_field(self, theta, q, max_sweeps: int | None, tol: float = 1e-12):
        """Coordinate ascent for q(z) = Π_t q_t(z_t), from q's marginals; returns (q, sweeps).
        q_t(k) ∝ exp(log b_t(k) + [t = 1] log π_k + Σ_i q_{t−1}(i) log A_ik + Σ_j q_{t+1}(j) log A_kj):
        each q_t depends on its neighbours only, so the even t and then the odd t are updated
        at once (a sweep). A zero entry of π or A enters as log(tiny) ≈ −708 (see warnings)."""
        log_b = self.log_emission(theta)
        log_a = np.log(np.maximum(theta["transmat"], TINY))
        log_pi = np.log(np.maximum(theta["startprob"], TINY))
        gamma = np.array(q.gamma, dtype=float)
        t = gamma.shape[1]
        limit = 10_000 if max_sweeps is None else max_sweeps
        sweeps = 0
        while sweeps < limit:
            before = gamma.copy()
            for parity in (0, 1):
                at = np.arange(parity, t, 2)
                field = log_b[:, at].copy()
                field[:, at == 0] += log_pi[:, None]
                has_left, has_right = at > 0, at < t - 1
                field[:, has_left] += log_a.T @ gamma[:, at[has_left] - 1]
                field[:, has_right] += log_a @ gamma[:, at[has_right] + 1]
                field -= field.max(axis=0)
                np.exp(field, out=field)
                gamma[:, at] = field / field.sum(axis=0)
            sweeps += 1
            if max_sweeps is None and np.max(np.abs(gamma - before)) <= tol:
                break
        return product_q(gamma), sweeps

    def canonical(self, theta) -> tuple[dict, bool]:
        """θ with the states in the order of their means (relabelling a chain permutes π, the
        rows and columns of A, the means and variances together). Returns (θ, relabelled?)."""
        order = np.argsort(theta["means"], kind="stable")
        if np.array_equal(order, np.arange(self.K)):
            return theta, False
        return self.theta({"startprob": theta["startprob"][order], "transmat": theta["transmat"][np.ix_(order, order)],
                           "means": theta["means"][order], "variances": theta["variances"][order]}), True

    def warnings(self, theta):
        out = [f"variance of state {k + 1} held at the floor {self.floor:.3g}"
               for k, v in enumerate(theta["variances"]) if v <= self.floor]
        for name, symbol in (("startprob", "π"), ("transmat", "A")):
            for index in np.argwhere((theta[name] > 0) & (theta[name] <= PROBABILITY_FLOOR)):
                where = ",".join(str(i + 1) for i in index)
                out.append(f"{symbol}[{where}] held at the floor {PROBABILITY_FLOOR:.2g} (the smallest positive "
                           f"number): its M-step value underflows to 0 while q still expects it (a 0 would "
                           f"make F = −∞)")
        if np.any(theta["transmat"] == 0) or np.any(theta["startprob"] == 0):
            out.append("a start or transition probability is 0: the mean-field family uses log(tiny) ≈ −708 for it")
        return out

    def collapsed(self, theta) -> str:
        return collapse_message(theta["variances"], self.floor, "state")

    def slice_range(self, theta, key):
        if key.startswith("means"):
            return float(self.data.min()), float(self.data.max())
        return super().slice_range(theta, key)

    # ----- the data view ---------------------------------------------------------------------------
    def series(self, theta, q) -> dict:
        """What the series view draws: the observations in time order, q's state probabilities
        γ_t (K, T), and the transition matrix."""
        return {"x": self.data, "probabilities": q.gamma, "transmat": theta["transmat"],
                "means": theta["means"]}
