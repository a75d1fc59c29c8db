# pacsguard: `make demo` runs the audit on the built-in lab; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: all venv system demo test unit integration lint bench clean

all: test

$(STAMP): requirements.txt | system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Debian packages of the real servers (orthanc, dcmtk, nmap) and python3-venv; apt only when missing.
system:
	bash scripts/system-packages.sh

demo: system $(STAMP)
	$(BIN)/python lab/demo.py

lint: $(STAMP)
	$(BIN)/ruff check library module_utils lab tests bench tools
	$(BIN)/ansible-lint --offline playbooks roles

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: system $(STAMP)
	$(BIN)/pytest -q tests/integration

test: system $(STAMP) lint
	$(BIN)/pytest -q tests

bench: system $(STAMP)
	$(BIN)/python bench/probe_vs_nmap.py

clean:
	rm -rf $(VENV) reports .lab .pytest_cache .ruff_cache
