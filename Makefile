# airwarn: `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# The suite runs on every core (pytest-xdist), a test file per worker (module fixtures built once);
# `make test PYTEST_ARGS=-n0` runs it in one process, `PYTEST_ARGS='-n0 -k name'` one test.
PYTEST_ARGS ?= -n auto --dist loadfile

.PHONY: demo test venv test-deps browser postgresql bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Installed package (editable) with its runtime dependencies.
$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-test
	$(PIP) install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

test-deps: $(VENV)/.installed-test browser postgresql

# Debian's chromium, chromedriver and a CJK font (the interface is Chinese) for the
# end-to-end browser tests (needs root or sudo).
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 \
	    || ! fc-list 2>/dev/null | grep -qi -e wqy -e 'noto.*cjk'; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Debian's chromium, chromium-driver and fonts-wqy-microhei for the browser tests"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null \
	    || echo "WARNING: could not install chromium; browser tests will be skipped"; \
	fi

# Debian's PostgreSQL server for the tests that also run on PostgreSQL (tests/postgres.py starts a
# throwaway cluster on a Unix socket and removes it; the package itself may set up and start Debian's
# own cluster on port 5432, which the tests do not use).
postgresql:
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Debian's postgresql for the PostgreSQL tests"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null \
	    || echo "WARNING: could not install postgresql; the PostgreSQL tests will fail in CI and skip elsewhere"; \
	fi

demo: $(VENV)/.installed
	$(BIN)/airwarn demo $(DEMO_ARGS)

test: test-deps
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) var *.egg-info .pytest_cache
