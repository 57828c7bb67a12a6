"""A 1-D mixture of two Gaussians written only as its log joint: a second implementation to hold
a hand-written mixture against (`LogJointModel` enumerates z for the E step and maximises
E_q log p numerically for the M step, so nothing in it is derived by hand).

    python -m explorer check examples/buggy_gmm.py:BuggyGMM --against examples/gmm_log_joint.py:GMMLogJoint

names the first coordinate where the buggy M step and this one disagree, and by how much.
"""
import numpy as np

from explorer import LogJointModel, Param
from explorer.models.gmm1d import GMM1D


class GMMLogJoint(LogJointModel):
    name = "gmm-log-joint"
    title = "1-D mixture of two Gaussians, from the log joint alone"
    latent_values = [0, 1]
    datasets = {"faithful-waiting": "Old Faithful waiting times (min), 272 (R datasets::faithful)"}
    default_dataset = "faithful-waiting"
    param_specs = [Param("weights", 2, "simplex", r"w"), Param("means", 2, "real", r"\mu"),
                   Param("variances", 2, "positive", r"\sigma^2")]

    @classmethod
    def load_dataset(cls, name, **options):
        return GMM1D.load_dataset(name)

    def log_joint_point(self, x, z, theta):
        """log w_z + log N(x | μ_z, σ²_z)"""
        variance = theta["variances"][z]
        return (np.log(theta["weights"][z]) - 0.5 * np.log(2 * np.pi * variance)
                - 0.5 * (x - theta["means"][z]) ** 2 / variance)

    def init_theta(self, rng):
        return {"weights": np.array([0.5, 0.5]), "means": np.sort(rng.choice(self.data, 2, replace=False)),
                "variances": np.full(2, self.data.var())}

    def simulate(self, theta, n, rng):
        labels = rng.choice(2, size=n, p=theta["weights"])
        return rng.normal(theta["means"][labels], np.sqrt(theta["variances"][labels]))
