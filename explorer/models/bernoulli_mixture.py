"""A mixture of products of Bernoullis: binary images as K prototypes of pixel probabilities
(Bishop, Pattern Recognition and Machine Learning, §9.3.3).

    log p(x_i, z_i = k | θ) = log w_k + Σ_d [x_id log μ_kd + (1 − x_id) log(1 − μ_kd)]

Sufficient statistics of q, per component: N_k = Σ_i q_ik, the ones O_kd = Σ_i q_ik x_id and
the zeros Z_kd = Σ_i q_ik (1 − x_id) (kept apart, so that each is exactly 0 when it should be).
θ: the weights w_k and the prototypes μ_k (pixel probabilities; Bishop's "means"). The M step:
w_k = N_k / N, μ_kd = O_kd / (O_kd + Z_kd). E_q log p(X, Z | θ) = Σ_k N_k log w_k
+ Σ_kd [O_kd log μ_kd + Z_kd log(1 − μ_kd)], with 0 log 0 = 0.

A pixel that is 0 (or 1) in every image a component explains gets μ_kd = 0 (or 1) exactly, as
the likelihood wants: an image with that pixel on is then impossible for that component
(log p(x_i, k) = −∞; the other components still explain it). Where O_kd or Z_kd is positive but
so small that the division rounds μ_kd to exactly 0 or 1, μ_kd is moved one step inside the
interval, the nearest value whose logarithms are finite (a rounding, not a floor: F moves by
less than O_kd · 745).

The built-in data are the 8×8 handwritten digits of UCI optdigits (CC BY 4.0, see
datasets/data/PROVENANCE.md), binarised: a pixel is 1 when its count is at least 8 of 16. Its
picture: the prototypes μ_k as small images, and q as each digit's bar of responsibilities.
"""
from __future__ import annotations

import functools

import numpy as np
from scipy.special import xlogy

from ..core.errors import ExplorerError
from ..core.model import Option, Param
from ..core.sketch import Layer, Sketch
from ..datasets import builtin_table
from .gaussian_mixture import EMPTY, Mixture   # the mixtures' K, weights and relabelling

THRESHOLD = 8       # of 16: a pixel count at or above it is ink
SHOWN_BARS = 60     # digits drawn as bars of responsibilities


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """The optdigits images binarised (N, 64) and their true labels, sorted by label."""
    header, values = builtin_table("optdigits.csv")
    labels = values[:, header.index("digit")].astype(int)
    pixels = values[:, [j for j, h in enumerate(header) if h != "digit"]]
    order = np.argsort(labels, kind="stable")
    images = (pixels[order] >= THRESHOLD).astype(float)
    images.setflags(write=False)
    return images, labels[order]


class BernoulliMixture(Mixture):
    name = "bernoulli-mixture"
    title = "Mixture of Bernoullis (binary images)"
    option_specs = (Option("K", 3, 1, 12, "number of mixture components"),)
    latent_description = "which prototype generated each image"
    datasets = {
        "digits-234": "the 541 handwritten 2s, 3s and 4s of UCI optdigits, 8×8, a pixel is 1 when its count "
                      "is ≥ 8 of 16, sorted by digit (CC BY 4.0; as Bishop's Figure 9.10)",
        "digits": "all 1797 handwritten digits of the UCI optdigits test set, binarised as above, sorted by digit",
    }
    default_dataset = "digits-234"
    data_view = "sketch"
    count_stats = ("count", "ones", "zeros")

    def params(self):
        return [Param("weights", (self.K,), "simplex", r"w"),
                Param("prototypes", (self.K, self.data.shape[1]), "unit", r"\mu")]

    # ----- data -----------------------------------------------------------------------------------
    @classmethod
    def load_dataset(cls, name, **options):
        if name not in cls.datasets:
            return super().load_dataset(name)
        images, labels = _digits()
        return images if name == "digits" else images[np.isin(labels, (2, 3, 4))]

    @classmethod
    def synthetic(cls, n, seed, separation=2.0, K=3, **options):
        """n 8×8 images from K random prototypes whose pixels are on with probability
        1/(1 + e^−separation) or off with that probability."""
        rng = np.random.default_rng(seed)
        K = cls.parse_options({"K": K})["K"]
        on = 1.0 / (1.0 + np.exp(-float(separation)))
        prototypes = np.where(rng.random((K, 64)) < 0.5, on, 1.0 - on)
        labels = np.sort(rng.integers(K, size=n))
        return (rng.random((n, 64)) < prototypes[labels]).astype(float)

    def validate_data(self, data):
        x = np.asarray(data, dtype=float)
        if x.ndim != 2 or x.shape[1] < 1:
            raise ExplorerError(f"{self.name} data must be a table of 0/1 pixels (one image per row), "
                                f"got shape {list(x.shape)}")
        bad = np.argwhere(~np.isin(x, (0.0, 1.0)))
        if len(bad):
            i, j = bad[0]
            raise ExplorerError(f"{self.name} data row {i + 1}, column {j + 1} is {x[i, j]:g}: every pixel "
                                f"must be 0 or 1 (binarise the images first)")
        self.check_enough_points(len(x))
        side = int(round(np.sqrt(x.shape[1])))
        self.image_shape = (side, side) if side * side == x.shape[1] else (1, x.shape[1])
        return x

    # ----- the contract, from log_joint ------------------------------------------------------------
    def log_joint(self, theta, rows=slice(None)):
        x = self.data[rows]
        mu = np.asarray(theta["prototypes"], dtype=float)
        with np.errstate(divide="ignore"):
            log_on, log_off, log_w = np.log(mu), np.log1p(-mu), np.log(theta["weights"])
        never_on, never_off = mu == 0, mu == 1           # a pixel a component never (or always) inks
        log_on[never_on], log_off[never_off] = 0.0, 0.0
        out = (log_on - log_off) @ x.T                   # Σ_d x log μ + (1 − x) log(1 − μ)
        out += (log_off.sum(axis=1) + log_w)[:, None]
        if never_on.any():
            out[never_on.astype(float) @ x.T > 0] = -np.inf
        if never_off.any():
            out[never_off.astype(float) @ (1.0 - x).T > 0] = -np.inf
        return out

    def suff_stats(self, q, rows=slice(None)):
        x = self.data[rows]
        return {"count": q.sum(axis=1), "ones": q @ x, "zeros": q @ (1.0 - x)}

    def ecll_from_stats(self, theta, stats):
        mu = np.asarray(theta["prototypes"], dtype=float)
        ones, zeros = stats["ones"], stats["zeros"]
        return float(xlogy(stats["count"], theta["weights"]).sum() + xlogy(ones, mu).sum() + xlogy(zeros, 1.0 - mu).sum())

    def m_step(self, q, theta, frozen=frozenset()):
        stats = self.stats(q)
        counts = stats["count"]
        means = np.array(theta["prototypes"], dtype=float)
        if "prototypes" not in frozen:
            full = counts > EMPTY        # an empty component keeps its means (its weight is 0)
            ones, zeros = stats["ones"][full], stats["zeros"][full]
            mu = ones / (ones + zeros)
            mu = np.where((zeros > 0) & (mu >= 1.0), np.nextafter(1.0, 0.0), mu)   # see the module's note
            mu = np.where((ones > 0) & (mu <= 0.0), np.nextafter(0.0, 1.0), mu)
            means[full] = mu
        return {"weights": self.new_weights(counts, theta, frozen), "prototypes": means}

    def init_theta(self, rng):
        """Equal weights and pixel probabilities drawn uniformly in [0.25, 0.75] (Bishop §9.3.3)."""
        return {"weights": np.full(self.K, 1.0 / self.K),
                "prototypes": rng.uniform(0.25, 0.75, (self.K, self.data.shape[1]))}

    def simulate(self, theta, n, rng):
        labels = rng.choice(self.K, size=n, p=theta["weights"])
        return (rng.random((n, self.data.shape[1])) < theta["prototypes"][labels]).astype(float)

    def warnings(self, theta):
        return self.weight_warnings(theta)

    def component_order(self, theta):
        """By the prototypes (pixel by pixel)."""
        return np.lexsort(np.asarray(theta["prototypes"]).T[::-1])

    # ----- the picture -------------------------------------------------------------------------------
    def sketch(self):
        shown = min(SHOWN_BARS, self.n_points())
        return Sketch("μₖ as images; q per image", f"image i ({shown} of {self.n_points()}, in data order)",
                      "q(zᵢ = k)", (Layer("images", "prototypes"), Layer("bars", "responsibilities")))

    def sketch_data(self, theta, q):
        n = self.n_points()
        shown = np.unique(np.linspace(0, n - 1, min(SHOWN_BARS, n)).round().astype(int))
        width = len(shown)
        slot = width / self.K                                  # each component's share of the width
        dw = min(0.9 * slot, 0.22 * width)                     # about square at the app's size
        dh = 0.54 * dw / (0.22 * width)
        x = (np.arange(self.K) + 0.5) * slot - dw / 2 - 0.5
        images = [np.asarray(m).reshape(self.image_shape) for m in theta["prototypes"]]
        return {"prototypes": {"image": images, "x": x, "y": np.full(self.K, 1.08), "dw": np.full(self.K, dw),
                          "dh": np.full(self.K, dh), "k": range(self.K)},
                "responsibilities": {"x": np.arange(width), "q": np.asarray(q)[:, shown], "width": 0.85}}
