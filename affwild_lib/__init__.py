"""affwild_lib: the thin library behind the Aff-Wild companion book.

Executable companion to Kollias et al., "Deep Affect Prediction in-the-wild: Aff-Wild
Database and Challenge, Deep Architectures, and Beyond", IJCV 2019.
"""

__version__ = "0.1.0"

from . import _quiet

_quiet.install()  # TensorFlow's start-up lines on stderr, when TF_CPP_MIN_LOG_LEVEL asks
