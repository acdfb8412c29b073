# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python

.PHONY: run test bench bench-ui package screenshot screenshot-timelines install install-test clean

$(VENV)/.run-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(VENV)/.run-installed

install: $(VENV)/.run-installed
install-test: $(VENV)/.test-installed

run: install
	$(PY) -m app $(ARGS)

$(VENV)/.package-installed: pyproject.toml $(VENV)/.test-installed
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,package]'
	touch $@

# A one-folder desktop bundle in dist/signalscope/ (PyInstaller), smoke-tested with --self-test.
package: $(VENV)/.package-installed
	PY=$(PY) sh packaging/build.sh

# The README's screenshot, from a real window under Xvfb (apt-get install xvfb).
screenshot: install-test
	xvfb-run -a -s "-screen 0 1366x768x24" $(PY) packaging/screenshot.py docs/screenshot.png
	xvfb-run -a -s "-screen 0 1366x768x24" $(PY) packaging/screenshot.py docs/screenshot-dark.png --theme dark --tab 1

# The README's "Retry timelines" pictures: docs/timelines.png and docs/policy-lab.png.
screenshot-timelines: install-test
	xvfb-run -a -s "-screen 0 1366x768x24" $(PY) packaging/timeline_screenshot.py docs

test: install-test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: install-test
	$(PY) benchmarks/ingest.py
	$(PY) benchmarks/deliver.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/ui.py

bench-ui: install-test
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/ui.py

clean:
	rm -rf $(VENV) build dist *.egg-info
