# rfmlab: `make run` and `make test` work on a fresh clone (they create .venv and install into it).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test test-fast docs notebooks lint ui dashboard serve bench clean-store help postgres-server chromium java
MODEL ?= models:/rfm-segmenter@champion
PORT  ?= 5001
STUDIES ?= mlruns/optuna.journal
DASH_PORT ?= 8080
# the suite on both cores, one test file per worker (module fixtures shared, no two tests of a file at once)
PYTEST_ARGS ?= -n 2 --dist loadfile

help:
	@echo "make run    - install into .venv and run the main job on the embedded default dataset"
	@echo "make test   - install with dev extras and run the whole test suite"
	@echo "make test-fast - the unit tests only (tests/unit: stage code, no subprocess or server; under 2 minutes)"
	@echo "make ui     - open the MLflow UI on mlruns/mlflow.db (http://127.0.0.1:5000)"
	@echo "make dashboard - optuna-dashboard on the search studies (mlruns/optuna.journal, http://127.0.0.1:8080)"
	@echo "make serve  - serve models:/rfm-segmenter@champion on http://127.0.0.1:5001/invocations"
	@echo "make docs   - build the documentation site into site/ (mkdocs --strict; make docs-serve to browse)"
	@echo "make notebooks - run the tutorial notebooks (docs/notebooks/) and store their outputs for the site"
	@echo "make lint   - ruff check and the import contracts (lint-imports, pyproject.toml [tool.importlinter])"
	@echo "make bench  - run the benchmarks in benchmarks/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --upgrade pip > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "installing rfmlab into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install -e . >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	@echo "installing rfmlab with dev extras into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install -e ".[dev]" >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/rfmlab $(ARGS)

test: $(DEVSTAMP) postgres-server chromium java
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(DEVSTAMP)
	$(BIN)/python -m pytest tests/unit -m "not slow" $(PYTEST_ARGS)

# tests/e2e/test_distributed.py starts a real PostgreSQL server (Debian's package; installed here when missing)
postgres-server:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; } || \
	  { echo "tests need PostgreSQL's server: apt-get install postgresql"; exit 1; }

# tests/e2e/test_spark.py runs the customer-table stage on PySpark (local[2]), which needs a Java 17+ runtime
java:
	@command -v java >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; } || \
	  { echo "tests need Java 17+ for PySpark: apt-get install openjdk-17-jre-headless"; exit 1; }

# tests/e2e/test_offline_html.py draws rfmlab's pages in a headless Chromium cut off from the network (Debian's
# package: 67 packages, 141 MB download, 462 MB installed, about 50 s; installed here when missing)
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "tests need a headless Chromium: apt-get install chromium"; exit 1; }

docs: $(DEVSTAMP)
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs build --strict -d site

notebooks: $(DEVSTAMP)
	$(BIN)/python docs/notebooks/execute.py

docs-serve: $(DEVSTAMP)
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs serve -a 127.0.0.1:8000

lint: $(DEVSTAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

ui: $(STAMP)
	@echo "MLflow UI: http://127.0.0.1:5000/#/experiments?workflowType=machine_learning"
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db --host 127.0.0.1 --port 5000

# STUDIES: rfmlab's default journal file, or the search.storage URL of a shared study (postgresql://...)
dashboard: $(STAMP)
	@case "$(STUDIES)" in *://*) ;; *) test -e "$(STUDIES)" || \
	  { echo "rfmlab: error: no studies in $(STUDIES) yet; run a search first (make run)"; exit 2; } ;; esac
	@echo "optuna-dashboard on $(STUDIES): http://127.0.0.1:$(DASH_PORT)"
	$(BIN)/optuna-dashboard "$(STUDIES)" --host 127.0.0.1 --port $(DASH_PORT) --quiet

serve: $(STAMP)
	@echo "serving $(MODEL) on http://127.0.0.1:$(PORT)/invocations"
	PATH=$(abspath $(BIN)):$$PATH MLFLOW_TRACKING_URI=$${MLFLOW_TRACKING_URI:-sqlite:///mlruns/mlflow.db} \
	  $(BIN)/mlflow models serve -m $(MODEL) --env-manager local -h 127.0.0.1 -p $(PORT)

bench: $(DEVSTAMP)
	$(BIN)/python benchmarks/run_all.py

clean-store:
	rm -rf mlruns/mlflow.db mlruns/artifacts mlruns/.hydra mlruns/optuna.db mlruns/optuna.journal
