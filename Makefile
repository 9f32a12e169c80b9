# Two commands for a fresh machine: `make lab` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: lab test bench reproduce

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

lab: $(PY)
	$(PY) -m pip install -e ".[lab]"
	$(VENV)/bin/jupyter lab notebooks/

test: $(PY)
	$(PY) -m pip install -e ".[lab,test]"
	$(PY) -m pytest

bench: $(PY)
	$(PY) benchmarks/run.py

reproduce: $(PY)
	$(PY) -m esxlab reproduce
