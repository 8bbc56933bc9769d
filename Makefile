# Set-up and main job. `make demo` runs the whole loop on the bundled corpus;
# `make test` runs the test suite. Both install into .venv first if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WB := $(BIN)/workbench
GOLD := annotations/gold/diplomatic.jsonl

.PHONY: install demo test corpus clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

demo: install
	$(WB) corpus build
	$(WB) annotations validate $(GOLD)
	$(WB) data $(GOLD)
	$(WB) train all
	$(WB) evaluate --model training/models/diplomatic --data $(GOLD) --split test -o reports/diplomatic

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf corpus/build training/corpus training/runs training/models reports

# Headless Chromium (Debian's package) for the HTML report's browser test; `make test` needs it.
.PHONY: browser
browser:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
test: browser
