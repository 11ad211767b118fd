"""TensorFlow's start-up lines, quieted as ``TF_CPP_MIN_LOG_LEVEL`` asks (issue 19).

TensorFlow's C++ writes a few lines to stderr while it loads, before it has read
``TF_CPP_MIN_LOG_LEVEL`` ("All log messages before absl::InitializeLog() is called ...",
"oneDNN custom operations are on", "Could not find cuda drivers"), and on a machine without a
GPU its first look at the devices logs ``E0000 ... failed call to cuInit``, which reads like a
failure. ``make book`` and ``make test`` set the level to 2; every process they start (the CLI,
the chapters' kernels, the tests) imports this package before TensorFlow.

When the level is 1 or more, :func:`install` hooks the import of ``tensorflow``: stderr's file
descriptor goes to ``/dev/null`` while the package loads and while it first lists the physical
devices (which initialises CUDA but not the runtime, so logical devices can still be set up),
then comes back. A Python error raised there still propagates, and is printed once stderr is
restored. At level 2 or more TensorFlow's Python logger is set to errors only as well (its
tf.function retracing notices filled chapter 09's outputs). ``TF_CPP_MIN_LOG_LEVEL=0`` shows
every line.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from contextlib import contextmanager


@contextmanager
def stderr_silenced():
    """Point file descriptor 2 at /dev/null (C++ writes there directly), then restore it."""
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):
        pass
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as the other finders do, and loads it with stderr silenced."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once: the real finders from here on
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            with stderr_silenced():
                load(module)
                try:
                    module.config.list_physical_devices()
                except Exception:  # noqa: BLE001  (a missing or odd device: TensorFlow says so later)
                    pass
            if level() >= 2:  # its Python warnings too (tf.function retracing notices), as the C++ ones
                import logging
                logging.getLogger("tensorflow").setLevel(logging.ERROR)

        spec.loader.exec_module = exec_module
        return spec


def level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def install() -> None:
    """Hook TensorFlow's import when the log level asks for quiet and it is not loaded yet."""
    if level() >= 1 and "tensorflow" not in sys.modules and not any(
            isinstance(f, _QuietTensorFlow) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlow())
