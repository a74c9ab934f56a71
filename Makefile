# Two commands do all set-up on a fresh machine:  make run  and  make test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
PORT   ?= 8501
# pytest processes (pytest-xdist): 2 halves the suite's waits on servers, browsers and
# subprocesses on 2 cores. Tests are handed out one by one (--dist load): measured 457 s
# against 505 s with --dist loadfile, where one file's 69 s classroom test held a process
# (a module fixture may then start in both processes: they are cheap by design)
JOBS   ?= 2
XDIST  := -n $(JOBS) --dist load

.PHONY: run test lint typecheck unit browser bench clean

# constraints.txt: the exact versions CI tests (requirements*.txt keep ranges)
$(VENV)/.runtime: requirements.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt -c constraints.txt
	$(PIP) install -q --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt constraints.txt
	$(PIP) install -q -r requirements-dev.txt -c constraints.txt
	touch $@

# Your own models: make run MODELS='mypkg.nets:MyNet mypkg.nets:make_net{"depth": 4}@1,3,128,128'
# (import paths, optional JSON kwargs and @input; the current folder is importable). It sets
# PTEXPLORE_MODELS for the app; unset, an exported PTEXPLORE_MODELS is kept.
MODELS ?=
ifneq ($(strip $(MODELS)),)
run: export PTEXPLORE_MODELS := $(MODELS)
endif
# The interface's language: make run LANG=zh (简体中文) or LANG=en. Only a LANG given on the
# command line counts (the shell's locale LANG is not a choice of interface language).
ifeq ($(origin LANG),command line)
run: export PTEXPLORE_LANG := $(LANG)
run: override LANG := C.UTF-8
endif
run: $(VENV)/.runtime
	$(PY) -m streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check ptexplore pages tests bench app.py setup.py
	$(VENV)/bin/ruff format --check ptexplore pages tests bench app.py setup.py

typecheck: $(VENV)/.dev
	$(VENV)/bin/mypy ptexplore

unit: $(VENV)/.dev
	$(PY) -m pytest -m "not browser" -q $(XDIST)

browser: $(VENV)/.dev
	$(PY) -m pytest -m browser -q $(XDIST)

test: lint typecheck
	$(PY) -m pytest -q $(XDIST)

bench: $(VENV)/.dev
	@for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
