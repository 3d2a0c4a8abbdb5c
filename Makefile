PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.kata-installed

.PHONY: test venv lint generated machinery selfcheck taskorder demo run run-secrets bench clean

## make test: set up .venv on first use, then lint and run the maintainers' self-check, then kata taskorder.
## Without redis-server it runs on an embedded Redis; tests that need Chromium or PostgreSQL are
## skipped where those are missing and listed in its last lines (KATA_REQUIRE_SERVICES=1, as in
## .ci/run: they fail instead).
NOT_RUN := $(VENV)/not-run
test: export KATA_NOT_RUN := $(abspath $(NOT_RUN))
test: lint generated machinery selfcheck taskorder
	@$(BIN)/python -m kata.services $(NOT_RUN)

venv: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "Work-It Kata needs Python 3.10 or newer; try: make PYTHON=python3.12")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=constraints.txt $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,stack]'
	touch $@

## make lint: ruff on the kata's own code, configured in pyproject.toml ([tool.ruff])
lint: $(INSTALLED)
	$(BIN)/ruff check kata bench solutions

## make generated: every stage's workit is what source/workit makes (`python -m kata generate` rewrites them)
generated: $(INSTALLED)
	$(BIN)/python -m kata generate --check

machinery: $(INSTALLED)
	$(BIN)/python -m pytest kata/tests -q --integration

selfcheck: $(INSTALLED)
	$(BIN)/python -m kata selfcheck --integration

## make taskorder: each task's tests pass once it and the tasks before it are done (kata/taskorder.py);
## two partial skeletons tested at a time, about two minutes. Its runs write no KATA_NOT_RUN list:
## the self-check's runs name what a missing service left out, once.
taskorder: $(INSTALLED)
	env -u KATA_NOT_RUN $(BIN)/python -m kata taskorder --workers 2

## make demo: the lesson's story with real processes: sync vs background, timed
demo: $(INSTALLED)
	$(BIN)/python -m kata.demo

## make run: the finished app and its services, up until Ctrl-C (see Procfile)
RUN_PROCESSES := redis mail web giphy email maintenance beat flower $(if $(GIPHY_API_KEY),,giphy-standin)
# How many workers of each queue (stage 07): `make run GIPHY_WORKERS=2 EMAIL_WORKERS=0`.
GIPHY_WORKERS ?= 1
EMAIL_WORKERS ?= 1
# This checkout's own secrets, made on the first `make run` and kept: the app's SECRET_KEY and
# Flower's login. Never committed (.venv is ignored), readable by you only.
RUN_SECRETS := $(VENV)/run-secrets.env
$(RUN_SECRETS):
	@mkdir -p $(VENV)
	@umask 077 && $(PYTHON) -c 'import secrets; print(f"SECRET_KEY={secrets.token_hex(32)}"); print(f"FLOWER_BASIC_AUTH=kata:{secrets.token_urlsafe(16)}")' > $@.new && mv $@.new $@
	@echo "made $@: this checkout's SECRET_KEY and Flower login (user kata)"

run-secrets: $(RUN_SECRETS)

run: $(INSTALLED) $(RUN_SECRETS)
	@{ $(if $(GIPHY_API_KEY),grep -v '^GIPHY_' stack.env,cat stack.env); cat $(RUN_SECRETS); } > $(VENV)/run.env
	@echo "Flower: http://127.0.0.1:5555, user kata, the password after kata: in $(RUN_SECRETS)"
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile -e $(VENV)/run.env -c giphy=$(GIPHY_WORKERS),email=$(EMAIL_WORKERS) $(RUN_PROCESSES)

## make bench: the numbers behind the lesson, with real processes on loopback (needs redis-server)
BENCH_INSTALLED := $(VENV)/.kata-bench-installed
$(BENCH_INSTALLED): $(INSTALLED)
	PIP_CONSTRAINT=constraints.txt $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,stack,bench]'
	touch $@

bench: $(BENCH_INSTALLED)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .tox .pytest_cache *.egg-info
