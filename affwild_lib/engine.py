"""Seeds: what makes a training run a function of its seed (Sects. 4 and 5 alike)."""
from __future__ import annotations

import keras
import numpy as np


# --------------------------------------------------------------------------------------------
# Seeds


def seed_everything(seed: int) -> None:
    """Make a run a function of ``seed``: Python's, NumPy's and the backend's random streams
    seeded, and the backend's ops deterministic, so the same seed gives the same scores.

    TensorFlow: ``enable_op_determinism`` (ops with no deterministic kernel then raise rather
    than vary). JAX is deterministic on the CPU; on a GPU ``XLA_FLAGS`` must ask for it before
    JAX starts (:data:`JAX_DETERMINISM`), which :mod:`affwild_lib` cannot do once it has.
    """
    keras.utils.set_random_seed(int(seed))
    np.random.seed(int(seed))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


#: What a JAX run on a GPU needs in ``XLA_FLAGS`` (set before the first JAX call) to be
#: deterministic; scatter-adds and some reductions otherwise run in varying order.
JAX_DETERMINISM = "--xla_gpu_deterministic_ops=true"
