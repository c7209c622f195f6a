# One entry point for people and CI. `make run`: set up and run the default job;
# `make test`: set up and run the test suite. Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
MIRROR := $(abspath ../shared/data)
# Machines here have no internet: read pinned data files from the offline mirror if present.
export MLPEG_DATA_MIRROR ?= $(if $(wildcard $(MIRROR)),$(MIRROR),)

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[all]'
	touch $@

.PHONY: setup run test lint
setup: $(VENV)/.installed

run: setup
	$(VENV)/bin/mlpeg run

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
