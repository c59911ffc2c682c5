# Every target creates the virtual environment it needs: a fresh machine needs only
# Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# DuckDB 1.x, as BI tools' drivers ship it: the tests open the published marts with it.
DUCKDB1_VENV  ?= .venv-duckdb1
DUCKDB1_STAMP := $(DUCKDB1_VENV)/.installed-stamp
# PDFium's per-character calls made from C (transforms/_pdfcalls.c, optional): without a C
# compiler the PDF reader makes them from Python, with the same answers, ~25 % slower.
PDFCALLS := transforms/_pdfcalls.so
PDFCALLS_BUILD = $(CC) -O2 -shared -fPIC -o $(PDFCALLS) transforms/_pdfcalls.c \
	|| echo "no C compiler: PDF text via Python calls (same answers, slower)"
# An HTML page's text rendered from lxml's tree in C (transforms/_htmltext.c, optional): without
# it html.py renders in Python, with the same answers, ~150 us a page slower. Built against the
# libxml2 headers lxml ships (lxml.get_include()), after lxml is installed.
HTMLTEXT := transforms/_htmltext.so
HTMLTEXT_BUILD = $(CC) -O2 -shared -fPIC $$($(PY) -c 'import lxml; print(" ".join("-I" + p for p in lxml.get_include()))') \
	-o $(HTMLTEXT) transforms/_htmltext.c \
	|| echo "no C compiler: HTML pages rendered by Python (same answers, slower)"
# A real browser for the report-site tests: the system's Chromium, never a download.
CHROMIUM := $(shell command -v chromium || command -v chromium-browser || command -v google-chrome)

# The project needs Python 3.11 (pyproject.toml). Say so at once rather than half-way through pip.
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifneq ($(PYTHON_VERSION),3.11)
$(error Python 3.11 is needed, $(PYTHON) is $(or $(PYTHON_VERSION),missing): install python3.11 or run `make PYTHON=/path/to/python3.11 ...`)
endif
# A .venv left by another Python (a first `make` run with the wrong one) is recreated, not reused.
ifneq ($(wildcard $(VENV)),)
VENV_VERSION := $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifneq ($(VENV_VERSION),3.11)
$(info $(VENV) was made with Python $(or $(VENV_VERSION),unknown (broken)), not 3.11: recreating it with $(PYTHON))
$(shell rm -rf $(VENV))
endif
endif

.PHONY: demo test lint reliability bench bench-scale accuracy clean help chromium fonts

help:
	@echo "make demo         run the whole pipeline on the bundled sample reports"
	@echo "make test         lint and run the test suite (what CI runs)"
	@echo "make reliability  kill drills, HTTP fault matrix, fuzzing"
	@echo "make bench        benchmarks; figures into benchmarks/results.json"
	@echo "make accuracy     the parser on the adversarial corpora: exact / null / WRONG cells"
	@echo "make bench-scale  the pipeline over 10,000 and 100,000 reports; benchmarks/scale.json"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	$(PDFCALLS_BUILD)
	$(HTMLTEXT_BUILD)
	touch $(STAMP)

$(PDFCALLS): transforms/_pdfcalls.c
	$(PDFCALLS_BUILD)

$(HTMLTEXT): transforms/_htmltext.c
	$(HTMLTEXT_BUILD)

$(DUCKDB1_STAMP):
	$(PYTHON) -m venv $(DUCKDB1_VENV)
	$(DUCKDB1_VENV)/bin/python -m pip install -q --disable-pip-version-check 'duckdb==1.4.4'
	touch $(DUCKDB1_STAMP)

demo: $(STAMP) $(PDFCALLS) $(HTMLTEXT)
	$(VENV)/bin/xxgk demo

lint: $(STAMP)
	$(PY) -m ruff check .

# Chromium (and a Chinese font, so screenshots show the pages' text) from the system's packages.
# Liberation Serif draws the digits of the scanned pages the OCR tests and benchmark make
# (tests/transforms/ocrgen.py): Chromium's package brings it, `make bench` asks for it alone.
LATIN_FONT := /usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf
APT_INSTALL = if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q $(1); \
	elif command -v sudo >/dev/null; then sudo apt-get update -q && sudo apt-get install -y -q $(1); \
	else echo "$(2): install the system package(s) $(1)"; exit 1; fi
chromium:
ifeq ($(CHROMIUM),)
	@echo "make test: installing Chromium from the system's packages (apt-get install chromium)"
	@$(call APT_INSTALL,chromium fonts-wqy-microhei fonts-liberation,make test needs Chromium for the report-site tests)
endif

fonts:
ifeq ($(wildcard $(LATIN_FONT)),)
	@echo "make bench: installing the font of the OCR benchmark's pages (apt-get install fonts-liberation)"
	@$(call APT_INSTALL,fonts-liberation,make bench draws scanned pages with $(LATIN_FONT))
endif

test: $(STAMP) $(PDFCALLS) $(HTMLTEXT) $(DUCKDB1_STAMP) chromium lint
	$(PY) -m pytest -q

reliability: $(STAMP)
	$(PY) -m pytest -q -m reliability tests/reliability

accuracy: $(STAMP)
	cd benchmarks/accuracy && ../../$(PY) generate.py >/dev/null && ../../$(PY) generate2.py >/dev/null
	PYTHONPATH=. $(PY) benchmarks/accuracy/harness.py | tail -n 1
	PYTHONPATH=. ADV_CORPUS=corpus2 $(PY) benchmarks/accuracy/harness.py | tail -n 1

# The project's modules compiled first, as an installed wheel (or Python's own cache, unless
# PYTHONDONTWRITEBYTECODE is set) has them: every measured process would compile them again otherwise.
BYTECODE = $(PY) -m compileall -q flows transforms expectations warehouse sources reportsite benchmarks

bench: $(STAMP) $(PDFCALLS) $(HTMLTEXT) fonts
	$(BYTECODE)
	$(PY) -m benchmarks.run_all

bench-scale: $(STAMP) $(PDFCALLS) $(HTMLTEXT)
	$(BYTECODE)
	$(PY) -m benchmarks.bench_scale --sizes 10000,100000

clean:
	rm -rf $(VENV) $(DUCKDB1_VENV) data .pytest_cache $(PDFCALLS) $(HTMLTEXT)
