# pacsguard: `make demo` runs the audit on the built-in lab; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: all venv demo test unit integration lint bench clean

all: test

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python lab/demo.py

lint: $(STAMP)
	$(BIN)/ruff check library module_utils lab tests bench tools
	$(BIN)/ansible-lint --offline playbooks roles

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -q tests/integration

test: $(STAMP) lint
	$(BIN)/pytest -q tests

bench: $(STAMP)
	$(BIN)/python bench/probe_vs_nmap.py

clean:
	rm -rf $(VENV) reports .lab .pytest_cache .ruff_cache
