# lstmops: every target installs what it needs first (into .venv), so each works on a fresh clone.
# Offline? Point the pipeline at a mirror of the data: make repro LSTMOPS_MIRROR=../shared/data

VENV   ?= .venv
TF     ?= cpu# cpu | gpu (TensorFlow with CUDA libraries)
PORT   ?= 5000
SERVE_PORT ?= 5001
SERVER_PORT ?= 5050
DATASET ?= imdb
PYTEST_ARGS ?=
# pytest-xdist: the test files run in this many processes, a file in one (its fixtures built once)
TEST_WORKERS ?= 2
LINT_DIRS := $(wildcard src tests benchmarks)

BIN    := $(abspath $(VENV))/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed-$(TF)
export PATH := $(BIN):$(PATH)
ifdef LSTMOPS_MIRROR
export LSTMOPS_MIRROR := $(abspath $(LSTMOPS_MIRROR))
endif

.PHONY: setup lock gpu-wheels system repro test test-quick lint format ui serve server server-stop server-user promote push pull tune bench peers plots report ci clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

LOCK   := requirements/$(TF).txt
# `make lock` resolves pyproject.toml's ranges into exact versions for Linux x86-64, Python >= 3.11.
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --fork-strategy fewest \
	--no-header --annotation-style line --quiet

$(STAMP): pyproject.toml $(LOCK)
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r $(LOCK)
	$(PY) -m pip install -q --no-deps -e .
	touch $@

setup: $(STAMP)  ## create .venv and install the locked versions (requirements/$(TF).txt; TF=gpu for the CUDA build)

lock: setup  ## resolve requirements/cpu.txt and gpu.txt from pyproject.toml, keeping pins (LOCK_ARGS=--upgrade: newest)
	$(UV_COMPILE) --extra cpu --extra dev -o requirements/cpu.txt $(LOCK_ARGS)
	$(UV_COMPILE) --extra gpu --extra dev -o requirements/gpu.txt $(LOCK_ARGS)
	$(subst pyproject.toml,requirements/peers.in,$(UV_COMPILE)) -o requirements/peers.txt $(LOCK_ARGS)

repro: setup  ## run the whole pipeline (both datasets) with DVC
	$(PY) -m lstmops check
	$(PY) -m lstmops dvc-yaml
	dvc repro

# benchmarks/gpu.sh on the lent GPU machine: its image has JAX, NumPy, pandas, scikit-learn and PyYAML
# but not these, and no package registry, so their locked wheels travel with the tree.
GPU_PYTHON ?= 3.12
GPU_WHEELS ?= build/gpu-wheels
GPU_CARRY  := keras namex optree pydantic pydantic-core annotated-types typing-inspection typing-extensions
gpu-wheels: setup  ## the wheels benchmarks/gpu.sh needs on the GPU machine (Python $(GPU_PYTHON)) into $(GPU_WHEELS)
	rm -rf $(GPU_WHEELS)
	$(PY) -m pip download -q --no-deps --only-binary=:all: --python-version $(GPU_PYTHON) \
		--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
		-d $(GPU_WHEELS) $$(grep -E "^($$(echo $(GPU_CARRY) | tr ' ' '|'))==" $(LOCK) | cut -d' ' -f1)
	@du -sh $(GPU_WHEELS)

system:  ## the system packages the tests need (Debian's): PostgreSQL for the team tests, Chromium for the plots page, Java for Spark
	@missing=""; \
	command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "make: missing system packages:$$missing: install them (sudo apt-get install$$missing) for the team, plots page and Spark tests in tests/e2e" >&2; fi

test: setup system  ## run the test suite (code, data, model and end-to-end tests; TEST_WORKERS=2 processes)
	@$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): check PYTEST_ARGS and tests/" >&2; fi; \
	exit $$status

test-quick: setup  ## the inner loop: code, data and model tests, no end-to-end ones (a few minutes)
	$(PY) -m pytest tests/unit tests/data tests/model $(PYTEST_ARGS)

lint: setup  ## ruff (lint and format check) and mypy (types, the task contract)
	ruff check $(LINT_DIRS)
	ruff format --check $(LINT_DIRS)
	mypy

format: setup  ## ruff: fix what can be fixed
	ruff check --fix $(LINT_DIRS)
	ruff format $(LINT_DIRS)

ui: setup  ## the MLflow UI on http://127.0.0.1:$(PORT), Model training view (with MLFLOW_TRACKING_URI set: that server's own)
	@if [ -n "$$MLFLOW_TRACKING_URI" ]; then \
		echo "MLFLOW_TRACKING_URI is set: runs are tracked at $$MLFLOW_TRACKING_URI; a tracking server shows its own UI there (open it in a browser)."; \
	else \
		echo "MLflow UI: open http://127.0.0.1:$(PORT)/#/experiments?workflowType=machine_learning (Model training: the runs of each dataset)"; \
		mlflow ui --backend-store-uri sqlite:///$(abspath mlruns)/mlflow.db --host 127.0.0.1 --port $(PORT); \
	fi

serve: setup  ## serve models:/lstmops-$(DATASET)@champion (imdb unless DATASET=…) on http://127.0.0.1:$(SERVE_PORT)/invocations
	@uri=$$($(PY) -m lstmops model-uri $(DATASET)) || exit 1; \
	MLFLOW_TRACKING_URI=$$($(PY) -m lstmops tracking-uri) mlflow models serve -m "$$uri" \
		--env-manager local --host 127.0.0.1 -p $(SERVE_PORT)

server: setup  ## a team's tracking server on 127.0.0.1:$(SERVER_PORT) that asks who you are: PostgreSQL (with a password), proxied artifacts
	$(PY) -m lstmops server --port $(SERVER_PORT)

server-stop: setup  ## stop the PostgreSQL cluster that `make server` started
	$(PY) -m lstmops server-stop

ROLE ?= member
server-user: setup  ## as the server's admin: add user NAME (or change their role) with ROLE=reader|member|maintainer
	@test -n "$(NAME)" || { echo "make server-user: say who: make server-user NAME=<login> ROLE=reader|member|maintainer" >&2; exit 2; }
	$(PY) -m lstmops server-user $(NAME) --role $(ROLE)

promote: setup  ## as a maintainer: make RUN's model DATASET's @champion (make promote DATASET=stock RUN=<run id>)
	@test -n "$(RUN)" || { echo "make promote: say which run: make promote DATASET=stock RUN=<run id>" >&2; exit 2; }
	$(PY) -m lstmops promote $(DATASET) $(RUN)

push: setup  ## dvc push: the pipeline's data and models to the DVC remote (default: ~/.cache/lstmops/dvc-remote)
	dvc push

pull: setup  ## dvc pull: fetch them in another clone (then `dvc status` is clean and `dvc repro` runs nothing)
	dvc pull

plots: setup  ## plots/index.html: every dataset's charts on one page that works offline (after `make repro`)
	$(PY) -m lstmops plots

TRIALS ?=
tune: setup  ## an Optuna study over DATASET's tune.space (TRIALS=…), tracked in MLflow; writes preset tuned-$(DATASET)
	$(PY) -m lstmops tune $(DATASET) $(if $(TRIALS),--trials $(TRIALS))

report: setup  ## compare the latest run of each preset of each dataset (read from MLflow)
	$(PY) -m lstmops report

ci: lint test  ## what CI runs

clean:  ## remove pipeline outputs (DVC's cache and the MLflow store are kept)
	rm -rf data/raw data/processed models metrics plots reports

# benchmarks/peers.py's own venv: statsforecast needs pandas < 3, the project pandas 3
PEERS_VENV := .venv-peers
$(PEERS_VENV)/.installed: requirements/peers.txt
	python3 -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install -q -r requirements/peers.txt
	touch $@

peers: $(PEERS_VENV)/.installed  ## persistence, seasonal naive, statsforecast's AutoETS and AutoARIMA on the mirror's real seasonal series
	$(PEERS_VENV)/bin/python -m pytest -q -p no:cacheprovider --noconftest tests/unit/test_peers.py
	$(PEERS_VENV)/bin/python benchmarks/peers.py

bench: setup  ## benchmarks: pipeline vs plain Keras throughput, overhead, no-op repro, FLOPs
	dvc repro
	$(PY) benchmarks/bench.py $(BENCH_ARGS)
	$(PY) benchmarks/panel_bench.py $(PANEL_ARGS)
