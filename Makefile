# pacsguard: `make demo` audits, hardens and re-audits the built-in lab; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: all venv system images demo demo-audit test test-steps unit integration molecule lint sanity matrix matrix-full collection ee bench clean

all: test

# pip runs once more without its cache when the first try fails (a wheel that did not match the hash
# the index gives for it has been seen once).
$(STAMP): requirements.txt | system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt \
	  || $(BIN)/pip install --quiet --disable-pip-version-check --no-cache-dir -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Debian packages: the real servers (orthanc, dcmtk), nmap, python3-venv, podman and what the test
# hosts need (runc, debootstrap, nftables); apt only when something is missing.
system:
	bash scripts/system-packages.sh

# Test-host images (podman, built locally from the machine's Debian mirror; cached).
images: system $(STAMP)
	PYTHON=$(BIN)/python bash images/build.sh all

# Audit the default Orthanc and dcmqrscp containers (red), harden them, audit again (green); on
# Debian 12 hosts, or Debian 13 ones with `make demo DEBIAN=13`.
DEBIAN ?= 12
demo: images
	PACSGUARD_DEBIAN=$(DEBIAN) CONTAINERS_CONF=$(CURDIR)/images/containers.conf $(BIN)/python lab/demo.py

# Audit three real servers on loopback (Orthanc default, Orthanc TLS per its docs, dcmqrscp).
demo-audit: system $(STAMP)
	$(BIN)/python lab/demo_audit.py

# The collection pacsguard.pacs, built from this tree (tools/build_collection.py): dist/*.tar.gz.
collection: $(STAMP)
	$(BIN)/python tools/build_collection.py

# The execution environment image for AWX (ee/), built with podman from a base built here, then
# checked: it audits a podman Orthanc host and must find what the clone finds (tools/ee_check.py).
ee: images
	PYTHON=$(BIN)/python bash tools/build_ee.sh
	$(BIN)/python tools/ee_check.py

lint: $(STAMP)
	$(BIN)/ruff check library module_utils lab tests bench tools molecule roles
	$(BIN)/ansible-lint --offline playbooks roles molecule
	$(BIN)/python tools/module_docs.py
	$(MAKE) sanity

# ansible-test sanity and units on the built collection, installed, with this Python (tools/sanity.py).
sanity: system $(STAMP)
	$(BIN)/python tools/sanity.py

# The ansible-core release matrix (tools/ansible_matrix.py): the audit path on every supported
# release against one loopback lab, the same report and gate as on the pinned release; ansible-test
# sanity with the oldest release's rules (lint runs the pinned one's); the harden path (check mode,
# harden, audit with the host part) on a fresh podman host with the oldest release, which must pass.
# Every release through all three, each harden compared with the pinned release's: make matrix-full.
MATRIX_SANITY ?= 2.16
MATRIX_HARDEN ?= 2.16
matrix: images
	$(BIN)/python tools/ansible_matrix.py --sanity $(MATRIX_SANITY) --harden $(MATRIX_HARDEN)

matrix-full: images
	$(BIN)/python tools/ansible_matrix.py --sanity all --harden all --harden-reference

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: system $(STAMP)
	$(BIN)/pytest -q tests/integration

# Molecule scenarios: podman hosts hardened by the roles, verified from allowed and rogue positions.
SCENARIOS := orthanc orthanc-custom firewall dcmqrscp dcmqrscp-custom
# Each scenario timed, its output kept in reports/test-artifacts; a failure is summed up last, and a
# scenario that fails is run once more, said loudly when it then passes (tools/molecule_suite.py).
molecule: images
	PATH=$(CURDIR)/$(BIN):$$PATH CONTAINERS_CONF=$(CURDIR)/images/containers.conf \
	  $(BIN)/python tools/molecule_suite.py $(SCENARIOS)

# The suite's wall time, set-up included, is kept for make bench (reports/test-artifacts/make-test.seconds:
# seconds, commit, when); only a run that passed writes it.
test:
	@mkdir -p reports/test-artifacts && date +%s > reports/test-artifacts/make-test.started
	@$(MAKE) --no-print-directory test-steps
	@echo "$$(( $$(date +%s) - $$(cat reports/test-artifacts/make-test.started) )) \
	  $$(git rev-parse --short HEAD 2>/dev/null || echo unknown) $$(date -u +%FT%TZ)" \
	  > reports/test-artifacts/make-test.seconds
	@echo "make test: $$(cut -d' ' -f1 reports/test-artifacts/make-test.seconds) s"

test-steps: system $(STAMP) lint
	$(BIN)/pytest -q tests
	$(MAKE) matrix
	$(MAKE) molecule

# Each figure next to its floor or target: the probe next to nmap, the audit's host part next to
# `ansible -m ping`, a harden run with nothing to change next to the first (podman hosts), and the
# last make test next to its budget.
bench: system $(STAMP) images
	$(BIN)/python bench/probe_vs_nmap.py
	$(BIN)/python bench/host_audit.py
	$(BIN)/python bench/host_part.py
	$(BIN)/python bench/discover.py
	$(BIN)/python bench/html_report.py
	$(BIN)/python bench/harden_runs.py

clean:
	rm -rf $(VENV) reports .lab .pytest_cache .ruff_cache build dist
