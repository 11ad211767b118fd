# The Aff-Wild companion. Two commands do everything on a fresh machine:
#   make book   bootstrap .venv, run the DVC pipeline (tiny profile, synthetic data), build the book
#   make test   bootstrap .venv, run the test suite (which executes every notebook and builds the book)
# Nothing else needs installing by hand: see README.md.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.affwild-installed

# The pipeline's commands (papermill, jupyter-book, affwild) come from the venv; DVC must not
# phone home (no network here but the package registries); TensorFlow's C++ logs are noise.
export PATH := $(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONUNBUFFERED := 1

.PHONY: book test lab clean help

help:
	@echo "make book   run the pipeline on the default (tiny, synthetic) profile and build the book"
	@echo "make test   run the tests, executing every notebook and building the book"
	@echo "make lab    open the notebooks in JupyterLab with the project's kernel"
	@echo "make clean  remove the built book and the executed notebooks"

# The environment: rebuilt when the pins change. scripts/bootstrap.sh explains any failure.
$(STAMP): pyproject.toml requirements.lock scripts/bootstrap.sh
	@PYTHON="$(PYTHON)" VENV="$(VENV)" bash scripts/bootstrap.sh
	@touch $@

# dvc repro with a warm `affwild` beside it (affwild_lib/forkserver.py): each training stage
# forks a process that has TensorFlow imported already, rather than importing it again.
book: $(STAMP)
	@mkdir -p data/real  # tracked by data.dvc; empty unless you add the licensed releases
	python -m affwild_lib.forkserver run dvc repro
	@echo ""
	@echo "The book is built: file://$(CURDIR)/_build/html/index.html"

# Two workers, a test file each (the pipeline test's file on one, the rest on the other, at a
# lower priority: tests/conftest.py): the pipeline is mostly single-threaded start-up, so the
# second core would otherwise idle. --durations: the slowest tests, in every log.
TEST_WORKERS ?= 2

test: $(STAMP)
	@mkdir -p data/real
	python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

# JupyterLab with the project's settings (lab/overrides.json), the kernel "Python (affwild)" the
# default, the file browser on notebooks/, opening on lab/start_here.ipynb: affwild_lib/lab.py.
lab: $(STAMP)
	python -m affwild_lib.lab

clean:
	rm -rf _build book/executed
