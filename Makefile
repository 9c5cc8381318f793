# Odoo 18 addon repository: lint, tests, demo and benchmark entry points.
# Odoo 18.0 itself is a prerequisite (importable by $(PYTHON)); nothing here
# fetches or builds it.

SHELL := /bin/bash
PYTHON ?= python3

# ---- make test -------------------------------------------------------------
# Odoo's addons dir (inside the installed odoo package), this repository and
# EXTRA_ADDONS_PATH (comma-separated) make the addons path unless ADDONS_PATH
# is given. See scripts/odoo_test.sh.
ADDON ?= prm_auto_status
TEST_DB ?= prm_test
TEST_TAGS ?= /$(ADDON)
EXTRA_ADDONS_PATH ?=
ADDONS_PATH ?=
# empty: scripts/odoo_test.sh takes a free port on 127.0.0.1
TEST_HTTP_PORT ?=
TEST_LOG ?= .tmp/test-$(TEST_DB).log
TEST_SUMMARY_FILE ?= .tmp/test-summary.txt
TEST_TIMEOUT ?= 3600
# 1 = do not refuse to start without Chromium/websocket-client (a skipped
# browser test still makes the run fail); only for checking that detection.
SKIP_BROWSER_PRECHECK ?= 0
ODOO_ARGS ?=

# ---- make lint -------------------------------------------------------------
LINT_DIRS := $(wildcard prm_auto_status scripts bench)
# Odoo addons at the repository root (directories with a manifest).
ADDON_DIRS := $(patsubst %/__manifest__.py,%,$(wildcard */__manifest__.py))
# pylint-odoo checks that only make sense for OCA-published addons; see .pylintrc
PYLINT_OCA_ONLY := manifest-required-author,missing-readme

# ---- make demo / make bench (scripts written separately) -------------------
DB ?= prm_demo
REPLACE ?=
SCALE ?=
BENCH_DB ?=

.PHONY: help test lint selftest demo bench

help:
	@echo "make test     [TEST_DB=prm_test] install $(ADDON) with demo data in a fresh DB and run its tests"
	@echo "make lint     ruff check, ruff format --check, pylint-odoo (18.0) on: $(LINT_DIRS)"
	@echo "make selftest unit tests of scripts/odoo_test_summary.py"
	@echo "make demo     [DB=prm_demo] [REPLACE=1] python3 scripts/demo.py"
	@echo "make bench    [SCALE=..] [BENCH_DB=..] python3 bench/run.py"

test:
	@PYTHON='$(PYTHON)' ADDON='$(ADDON)' TEST_DB='$(TEST_DB)' TEST_TAGS='$(TEST_TAGS)' \
	EXTRA_ADDONS_PATH='$(EXTRA_ADDONS_PATH)' ADDONS_PATH='$(ADDONS_PATH)' \
	TEST_HTTP_PORT='$(TEST_HTTP_PORT)' TEST_LOG='$(TEST_LOG)' \
	TEST_SUMMARY_FILE='$(TEST_SUMMARY_FILE)' TEST_TIMEOUT='$(TEST_TIMEOUT)' \
	SKIP_BROWSER_PRECHECK='$(SKIP_BROWSER_PRECHECK)' ODOO_ARGS='$(ODOO_ARGS)' \
	bash scripts/odoo_test.sh

# Runs every linter even when an earlier one fails; fails if any failed.
lint:
	@status=0; \
	if [ -z "$(strip $(LINT_DIRS))" ]; then echo "make lint: nothing to lint"; exit 0; fi; \
	echo "+ ruff check $(LINT_DIRS)"; \
	$(PYTHON) -m ruff check $(LINT_DIRS) || status=1; \
	echo "+ ruff format --check $(LINT_DIRS)"; \
	$(PYTHON) -m ruff format --check $(LINT_DIRS) || status=1; \
	if [ -n "$(strip $(ADDON_DIRS))" ]; then \
		echo "+ pylint --rcfile=.pylintrc --disable=$(PYLINT_OCA_ONLY) $(ADDON_DIRS)"; \
		$(PYTHON) -m pylint --rcfile=.pylintrc --disable=$(PYLINT_OCA_ONLY) $(ADDON_DIRS) \
			|| status=1; \
	fi; \
	if [ $$status -ne 0 ]; then echo "make lint: FAILED"; else echo "make lint: OK"; fi; \
	exit $$status

selftest:
	$(PYTHON) -m unittest discover -s scripts/tests -v

# scripts/demo.py and bench/run.py are written separately. REPLACE=1 lets
# demo.py drop an existing database DB; SCALE and BENCH_DB reach bench/run.py
# as environment variables.
demo:
	$(PYTHON) scripts/demo.py --db '$(DB)' --replace '$(REPLACE)'

bench:
	SCALE='$(SCALE)' BENCH_DB='$(BENCH_DB)' $(PYTHON) bench/run.py
