PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.kata-installed

.PHONY: test venv machinery selfcheck clean

## make test: set up .venv on first use, then run the maintainers' self-check
test: machinery selfcheck

venv: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "Work-It Kata needs Python 3.10 or newer; try: make PYTHON=python3.12")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=constraints.txt $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,stack]'
	touch $@

machinery: $(INSTALLED)
	$(BIN)/python -m pytest kata/tests -q --integration

selfcheck: $(INSTALLED)
	$(BIN)/python -m kata selfcheck --integration

clean:
	rm -rf $(VENV) .tox .pytest_cache *.egg-info
