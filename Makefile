# One command runs the pipeline (`make run`), one runs the tests (`make test`).
# Both install first: a virtual environment in .venv with the CPU build of torch.
PYTHON ?= python3.11
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: install lock chromium run shell test lint docs bench clean

install: $(VENV)/.installed

# The web page's browser tests drive Debian's chromium; installed with apt (said first) when missing and root.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		echo "installing Debian's chromium with apt for the browser tests" && \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || \
		  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; }; } || \
		echo "chromium is not installed: the browser tests skip (and fail under CI=true)"

# Every dependency at the version and hash requirements.lock pins (torch: the CPU build), then the
# project itself without resolving anything again.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e '.[dev]'
	touch $@

# requirements.lock from pyproject.toml (after changing a dependency): pip-tools in a throwaway
# environment, torch held to its CPU build.
lock:
	$(PYTHON) -m venv .lock-env
	.lock-env/bin/python -m pip install --quiet pip-tools
	printf 'torch==2.13.0+cpu\n' > .lock-env/torch-cpu.txt
	.lock-env/bin/pip-compile --quiet --generate-hashes --allow-unsafe --extra dev --strip-extras \
		--no-emit-index-url --no-emit-find-links --constraint .lock-env/torch-cpu.txt \
		--output-file requirements.lock pyproject.toml
	rm -rf .lock-env

run: install
	$(BIN)/veritext up

# A shell with the environment's commands (`veritext`, `pytest`) on PATH; `exit` leaves it.
shell: install
	@echo "veritext is on PATH in this shell; 'exit' leaves it"
	@VIRTUAL_ENV="$(abspath $(VENV))" PATH="$(abspath $(BIN)):$$PATH" $${SHELL:-bash}

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint chromium
	$(BIN)/pytest

# The documentation site (mkdocs-material) from docs/; --strict: a broken link fails the build.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

bench: install
	$(BIN)/python bench/pipeline_bench.py
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/replay_bench.py
	$(BIN)/python bench/replay_bench.py --detector tests.doubles:slow_fixed --texts 320
	$(BIN)/python bench/bridge_bench.py
	$(BIN)/python bench/detector_bench.py
	$(BIN)/python bench/probe_bench.py
	$(BIN)/python bench/eval_bench.py
	$(BIN)/python bench/auth_bench.py
	$(BIN)/python bench/gateway_bench.py
	$(BIN)/python bench/durability_bench.py
	$(BIN)/python bench/documents_bench.py
	$(BIN)/veritext eval ../shared/data --split test --per-cell 150 --by lang,domain,generator \
		--json bench/results/accuracy_test.json --markdown bench/results/accuracy_test.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
