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

# 3Dmol.js for the app's structure viewer: py3Dmol points at a CDN, so fetch the pinned
# release from the npm registry once, check it and serve it locally (git-ignored).
THREEDMOL_VERSION := 2.5.5
THREEDMOL_SHA256 := f7cc78921ae72e7623e89cdd111434f58c2efddd2ffda1cd212644b406fb8016
THREEDMOL := streamlit_app/static/3Dmol-min.js

$(THREEDMOL):
	@mkdir -p $(@D)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent 3dmol@$(THREEDMOL_VERSION) >/dev/null) && \
	tar -xzf "$$tmp/3dmol-$(THREEDMOL_VERSION).tgz" -C "$$tmp" package/build/3Dmol-min.js && \
	echo "$(THREEDMOL_SHA256)  $$tmp/package/build/3Dmol-min.js" | sha256sum -c --quiet && \
	mv "$$tmp/package/build/3Dmol-min.js" $@

.PHONY: setup run test test-quick test-repeat lint protections
setup: $(VENV)/.installed $(THREEDMOL)

run: setup
	$(VENV)/bin/mlpeg run

# Lint, the whole suite (every benchmark's `checks:` included), then each guard removed
# once to prove its test fails (.ci/protections.py).
test: lint
	$(PY) -m pytest -q
	$(PY) .ci/protections.py

# The suite without real models and the browser: a quick loop while editing.
test-quick: setup
	$(PY) -m pytest -q -m "not slow and not browser"

# The suite REPEAT times in random order (pytest-randomly), each time with DuckDB on one
# thread and on all cores: a test that passes only in one order or one summation order
# fails here. Each run prints its seed (pytest -p randomly --randomly-seed=N repeats it).
# One test many times: make test-repeat REPEAT=20 TESTS='tests/test_x.py::test_y'
REPEAT ?= 3
TESTS ?=
test-repeat: setup
	@for i in $$(seq $(REPEAT)); do for threads in 1 ""; do \
	  echo "== run $$i of $(REPEAT), DuckDB threads: $${threads:-default}"; \
	  MLPEG_DUCKDB_THREADS=$$threads $(PY) -m pytest -q -p randomly -p no:cacheprovider $(TESTS) \
	    || exit 1; \
	done; done; echo "$(REPEAT) random-order runs passed at 1 and at the default DuckDB threads"

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

protections: setup
	$(PY) .ci/protections.py
