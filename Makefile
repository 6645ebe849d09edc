# peerbot's developer loop. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APP_STAMP := $(VENV)/.peerbot-installed
RASA_STAMP := .rasa-venv/.peerbot-lock-sha256

.PHONY: help install run test lint format lock benchmark compare-pipelines clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "peerbot needs Python 3.11+; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

# Reinstall the app's packages only when the lock or the project metadata changed.
$(APP_STAMP): $(BIN)/python requirements.lock pyproject.toml
	@echo "==> Installing the app's locked dependencies into $(VENV)"
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $(APP_STAMP)

$(RASA_STAMP): rasa-runtime.lock rasa-encoder.lock scripts/provision-rasa.sh | $(APP_STAMP)
	@echo "==> Provisioning the Rasa runtime (.rasa-venv)"
	scripts/provision-rasa.sh

install: $(APP_STAMP) $(RASA_STAMP) ## Install everything: app venv, Rasa runtime, database, trained model
	@scripts/install-browser.sh
	@echo "==> Migrating the database"
	$(BIN)/peerbot migrate
	@echo "==> Training the Rasa model (skipped when nothing changed)"
	$(BIN)/peerbot train

run: install ## Start Rasa, the action server and the bot app; open http://127.0.0.1:8080
	$(BIN)/peerbot run

test: install ## Run the whole test suite (real Rasa included)
	PEERBOT_REQUIRE_RASA=1 PEERBOT_REQUIRE_BROWSER=$${CI:+1} $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(APP_STAMP) ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(APP_STAMP) ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

benchmark: install ## Measure the crisis screen and the chat path
	$(BIN)/peerbot benchmark

compare-pipelines: install ## Cross-validate and time config.yml against pipelines/diet.yml (about 15 min on 2 cores)
	scripts/compare-pipelines.sh

lock: ## Re-resolve requirements.lock from pyproject.toml (needs network)
	$(BIN)/python -m pip install -q uv==0.13.8
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes \
	  --index-url https://pypi.org/simple -o requirements.lock

clean: ## Remove the venvs, trained models and local data
	rm -rf $(VENV) .rasa-venv models var .pytest_cache .mypy_cache .ruff_cache
