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
	$(PY) -m pip install -e ".[lab,test]"
	$(PY) benchmarks/run.py
	$(PY) benchmarks/bench_sharing.py
	$(PY) benchmarks/bench_scale.py
	$(PY) benchmarks/bench_views.py
	$(PY) benchmarks/bench_trace.py

reproduce: $(PY)
	$(PY) -m pip install -e .
	$(PY) -m esxlab reproduce
