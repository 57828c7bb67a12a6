"""The two coins of Do & Batzoglou (2008), written only as a log-joint: no E or M step derived.

`LogJointModel` enumerates z ∈ {A, B} for the E step and maximises E_q log p numerically for
the M step. It converges to the same MLE as the closed-form `coins` model.

    python -m explorer trace --model examples/coins_log_joint.py:CoinsLogJoint --until-converged
"""
import numpy as np
from scipy.special import xlogy

from explorer import LogJointModel, Param
from explorer.models.coins import Coins


class CoinsLogJoint(LogJointModel):
    name = "coins-log-joint"
    title = "Two coins, from the log-joint alone"
    latent_values = ["A", "B"]
    datasets = {"do-batzoglou": "five sets of 10 tosses (Do & Batzoglou 2008)"}
    default_dataset = "do-batzoglou"
    param_specs = [Param("theta_A", (), "unit", r"\theta_A"), Param("theta_B", (), "unit", r"\theta_B"),
                   Param("weight_A", (), "unit", r"w_A", frozen_by_default=True)]

    @classmethod
    def load_dataset(cls, name, **options):
        return Coins.load_dataset("do-batzoglou")

    def log_joint_point(self, x, z, theta):
        heads, tosses = x[:, 0], x[:, 1]
        weight = theta["weight_A"] if z == "A" else 1 - theta["weight_A"]
        p = theta["theta_A"] if z == "A" else theta["theta_B"]
        return np.log(weight) + xlogy(heads, p) + xlogy(tosses - heads, 1 - p)

    def init_theta(self, rng):
        return {"theta_A": rng.uniform(0.2, 0.8), "theta_B": rng.uniform(0.2, 0.8), "weight_A": 0.5}

    def simulate(self, theta, n, rng):
        coin_a = rng.uniform(size=n) < theta["weight_A"]
        return np.column_stack([rng.binomial(10, np.where(coin_a, theta["theta_A"], theta["theta_B"])),
                                np.full(n, 10)]).astype(float)
