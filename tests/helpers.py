"""Independent computations shared by several test files."""
import itertools

import numpy as np
from scipy.special import logsumexp


def enumerate_paths(start, transition, log_b):
    """An HMM's log p, γ and ξ by summing over every path z_1 … z_T (tiny T only):
    log p = log Σ_z π_{z_1} Π_t b_{z_t}(x_t) Π_t A_{z_t z_{t+1}}."""
    k, t = log_b.shape
    paths = np.array(list(itertools.product(range(k), repeat=t)))
    with np.errstate(divide="ignore"):
        log_joint = (np.log(start)[paths[:, 0]] + log_b[paths, np.arange(t)].sum(axis=1)
                     + np.log(transition)[paths[:, :-1], paths[:, 1:]].sum(axis=1))
    loglik = logsumexp(log_joint)
    weight = np.exp(log_joint - loglik)
    gamma = np.array([[weight[paths[:, s] == j].sum() for s in range(t)] for j in range(k)])
    xi = np.array([[[weight[(paths[:, s] == i) & (paths[:, s + 1] == j)].sum() for s in range(t - 1)]
                    for j in range(k)] for i in range(k)])
    return loglik, gamma, xi
