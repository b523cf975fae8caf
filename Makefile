# lstmops: every target installs what it needs first (into .venv), so each works on a fresh clone.
# Offline? Point the pipeline at a mirror of the data: make repro LSTMOPS_MIRROR=../shared/data

VENV   ?= .venv
TF     ?= cpu# cpu | gpu (TensorFlow with CUDA libraries)
PORT   ?= 5000
SERVE_PORT ?= 5001
PYTEST_ARGS ?=
LINT_DIRS := $(wildcard src tests benchmarks)

BIN    := $(abspath $(VENV))/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed-$(TF)
export PATH := $(BIN):$(PATH)
ifdef LSTMOPS_MIRROR
export LSTMOPS_MIRROR := $(abspath $(LSTMOPS_MIRROR))
endif

.PHONY: setup repro test lint format ui serve bench report ci clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$(TF),dev]"
	touch $@

setup: $(STAMP)  ## create .venv and install the project (TF=gpu for the CUDA build)

repro: setup  ## run the whole pipeline (both datasets) with DVC
	dvc repro

test: setup  ## run the test suite (code, data, model and end-to-end tests)
	@$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): check PYTEST_ARGS and tests/" >&2; fi; \
	exit $$status

lint: setup  ## ruff: lint and format check
	ruff check $(LINT_DIRS)
	ruff format --check $(LINT_DIRS)

format: setup  ## ruff: fix what can be fixed
	ruff check --fix $(LINT_DIRS)
	ruff format $(LINT_DIRS)

ui: setup  ## the MLflow UI on http://127.0.0.1:$(PORT)
	mlflow ui --backend-store-uri sqlite:///$(abspath mlruns)/mlflow.db --host 127.0.0.1 --port $(PORT)

serve: setup  ## serve the latest imdb model on http://127.0.0.1:$(SERVE_PORT)/invocations
	MLFLOW_TRACKING_URI=sqlite:///$(abspath mlruns)/mlflow.db mlflow models serve \
		-m "$$($(PY) -m lstmops model-uri imdb)" --env-manager local --host 127.0.0.1 -p $(SERVE_PORT)

report: setup  ## compare the latest run of each preset of each dataset (read from MLflow)
	$(PY) -m lstmops report

ci: lint test  ## what CI runs

clean:  ## remove pipeline outputs (DVC's cache and the MLflow store are kept)
	rm -rf data/raw data/processed models metrics plots reports

bench: setup  ## benchmarks: pipeline vs plain Keras throughput, overhead, no-op repro, FLOPs
	dvc repro
	$(PY) benchmarks/bench.py $(BENCH_ARGS)
