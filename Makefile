# Every target creates the virtual environment it needs: a fresh machine needs only
# Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# DuckDB 1.x, as BI tools' drivers ship it: the tests open the published marts with it.
DUCKDB1_VENV  ?= .venv-duckdb1
DUCKDB1_STAMP := $(DUCKDB1_VENV)/.installed-stamp

.PHONY: demo test lint reliability bench bench-scale clean help

help:
	@echo "make demo         run the whole pipeline on the bundled sample reports"
	@echo "make test         lint and run the test suite (what CI runs)"
	@echo "make reliability  kill drills, HTTP fault matrix, fuzzing"
	@echo "make bench        benchmarks; figures into benchmarks/results.json"
	@echo "make bench-scale  the pipeline over 10,000 and 100,000 reports; benchmarks/scale.json"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(DUCKDB1_STAMP):
	$(PYTHON) -m venv $(DUCKDB1_VENV)
	$(DUCKDB1_VENV)/bin/python -m pip install -q --disable-pip-version-check 'duckdb==1.4.4'
	touch $(DUCKDB1_STAMP)

demo: $(STAMP)
	$(VENV)/bin/xxgk demo

lint: $(STAMP)
	$(PY) -m ruff check .

test: $(STAMP) $(DUCKDB1_STAMP) lint
	$(PY) -m pytest -q

reliability: $(STAMP)
	$(PY) -m pytest -q -m reliability tests/reliability

bench: $(STAMP)
	$(PY) -m benchmarks.run_all

bench-scale: $(STAMP)
	$(PY) -m benchmarks.bench_scale --sizes 10000,100000

clean:
	rm -rf $(VENV) $(DUCKDB1_VENV) data .pytest_cache
