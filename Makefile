# fairfetch — every target sets up what it needs; run any of them on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help venv demo test test-fast lint bench services browser clean

help:
	@echo "make demo   - set up .venv, crawl the bundled fixture web and print what was decided"
	@echo "make test   - set up .venv, start what tests need, run lint, types and the whole test suite"
	@echo "make bench  - run the benchmarks and print the figures for docs/benchmarks.md"
	@echo "make lint   - ruff and mypy only"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m crawler.demo

lint: $(STAMP)
	$(BIN)/ruff check norms crawler attribution tests fixtures
	$(BIN)/mypy

services:
	@bash .ci/services.sh

# The checker's browser test drives Debian's Chromium (Playwright cannot download its own here).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "no /usr/bin/chromium and cannot apt-get install it: the browser test fails under CI=true"; fi; }

test: $(STAMP) services browser lint
	$(BIN)/python -m pytest -q -n 2 --durations=15

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not services" -x

bench: $(STAMP)
	$(BIN)/python -m pytest tests/bench -q -m bench --benchmark-enable --benchmark-columns=min,median,mean,ops,rounds -p no:randomly

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .benchmarks
