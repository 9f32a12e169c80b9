# Two commands for a fresh machine: `make lab` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
# JupyterLab refuses to run as root (Docker, cloud images) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_ARGS ?=
# Notebooks are committed without outputs: nbstripout is git's clean filter (cell ids kept,
# and only the language name of what a kernel writes into metadata.language_info).
KERNEL_KEYS = $(foreach k,codemirror_mode file_extension mimetype nbconvert_exporter pygments_lexer version,\
	metadata.language_info.$(k))
STRIP = "$(abspath $(PY))" -m nbstripout --keep-id --extra-keys "$(strip $(KERNEL_KEYS))"

.PHONY: lab serve-lab filters test screenshots bench reproduce

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

lab: $(PY)
	$(PY) -m pip install -e ".[lab]"
	$(MAKE) filters serve-lab

# JupyterLab on the repository root (notebooks/ and exercises/ one click away); saving a
# notebook replaces its widgets by a "run the cells" note (jupyter_server_config.py).
serve-lab:
	"$(dir $(PY))jupyter" lab --config="$(CURDIR)/jupyter_server_config.py" --ServerApp.root_dir="$(CURDIR)" \
		$(ROOT_FLAG) $(LAB_ARGS)

# Outside a git checkout (a downloaded archive) there is nothing to filter.
filters:
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
		git config filter.nbstripout.clean '$(STRIP)' && \
		git config filter.nbstripout.smudge cat && \
		git config filter.nbstripout.required true && \
		git config diff.ipynb.textconv '$(STRIP) -t'; \
	fi

test: $(PY)
	$(PY) -m pip install -e ".[lab,test]"
	$(MAKE) filters
	$(PY) -m pytest

# docs/screenshots/ for the README, photographed by the browser test (Debian chromium needed), and
# docs/screenshots/SOURCE, the hash tests/test_screenshots.py compares
screenshots: $(PY)
	$(PY) -m pip install -e ".[lab,test]"
	ESXLAB_SCREENSHOTS=1 $(PY) -m pytest tests/test_browser.py

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
