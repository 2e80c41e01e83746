# The two commands users type are `make run` and `make test`; each installs first when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Rebuilt only when the project's metadata changes, so a second `make install` is instant.
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[torch,sweep,fast,dev]'
	touch $(STAMP)

run: install
	$(VENV)/bin/mlp lab

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest -n 2

# Benchmarks unset the OpenBLAS overrides these machines set (they halve sgemm speed); never in tests.
bench: install
	$(PY) -m pip install --quiet -e '.[bench]'
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache
