#!/usr/bin/env bash
# Create (or repair the install of) the project's virtual environment, with the pinned versions
# of requirements.lock, and register the Jupyter kernel "affwild" that papermill and `make lab`
# use. Called by the Makefile; says what is missing and how to fix it when it cannot go on.
set -euo pipefail
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

fail() { echo "bootstrap: $*" >&2; exit 1; }

if [ -e "$VENV" ]; then
  # A venv whose interpreter is gone (Python upgraded, folder copied from another machine) or
  # that has no pip cannot be repaired in place.
  "$VENV/bin/python" -c 'import sys, pip' >/dev/null 2>&1 \
    || fail "$VENV exists but is broken (its python or pip does not run). Remove it with 'rm -rf $VENV' and run make again."
else
  command -v "$PYTHON" >/dev/null 2>&1 \
    || fail "'$PYTHON' was not found. Install Python 3.11 or 3.12 (Debian: apt-get install python3 python3-venv python3-pip), or run make PYTHON=/path/to/python3.11."
  "$PYTHON" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 12)))' \
    || fail "$("$PYTHON" --version 2>&1) is not supported: the pinned TensorFlow needs Python 3.11 or 3.12. Run make PYTHON=/path/to/python3.11."
  "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1 \
    || fail "$PYTHON has no venv/ensurepip module (Debian: apt-get install python3-venv)."
  echo "bootstrap: creating $VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv "$VENV"
fi

echo "bootstrap: installing the pinned environment into $VENV (first time: a few minutes)"
# uv (from PyPI, pinned; requirements.lock lists it too) installs the same pins as pip, in
# parallel: on a fresh clone here, without a cache, 66 s against pip's 205 s
# (benchmarks/README.md). Bytecode is compiled at install: with PYTHONDONTWRITEBYTECODE set,
# nothing would compile it later, and every import of TensorFlow would take three times as
# long. Where uv cannot run or reach the index (pip's own settings, e.g. a local mirror in
# pip.conf, are not uv's), pip does the same install.
UV_VERSION=0.13.8
if "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" \
   && "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --compile-bytecode \
        -c requirements.lock -e '.[book,test]'; then
  :
else
  echo "bootstrap: uv could not install the environment; installing with pip instead"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c requirements.lock -e '.[book,test]' \
    || fail "pip could not install the environment (see the error above). It needs PyPI to be reachable."
fi
"$VENV/bin/python" -m ipykernel install --prefix "$VENV" --name affwild \
  --display-name "Python (affwild)" >/dev/null
echo "bootstrap: ready ($VENV, kernel 'affwild')"
