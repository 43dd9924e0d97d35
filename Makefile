# `make demo` and `make test` each set up their own virtual environment from nothing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test lint clean

$(VENV)/.installed: setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e ".[test,demo]"
	# tensorflow-serving-api requires `tensorflow`, which would replace tensorflow-cpu.
	$(PIP) install --no-deps "tensorflow-serving-api>=2.16"
	touch $@

demo: $(VENV)/.installed
	$(PY) -m keras_gans.demo --out demo_out

test: $(VENV)/.installed
	# Two workers: most test time is single-threaded tracing and subprocess start-up.
	$(PY) -m pytest -q -n 2 --dist loadfile tests

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check keras_gans tests zoo benchmarks

clean:
	rm -rf $(VENV) demo_out build *.egg-info
