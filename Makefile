# The two commands a newcomer needs (README): `make demo` and `make test`. Both set up .venv/ first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.clipself-setup
SETUP_INPUTS := tools/setup_env.sh requirements/constraints.txt requirements/runtime.txt requirements/tests.txt setup.py

.PHONY: setup test demo bench clean-venv

$(STAMP): $(SETUP_INPUTS)
	bash tools/setup_env.sh $(VENV)
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

demo: $(STAMP)
	$(PY) tools/demo_pipeline.py --out work_dirs/demo

bench: $(STAMP)
	$(PY) benchmarks/bench_dense.py

clean-venv:
	rm -rf $(VENV)
