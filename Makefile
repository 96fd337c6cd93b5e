# Two commands matter: `make demo` and `make test`. Both create .venv from the lock file when
# it is missing or stale, so a fresh clone needs only Python 3.11+, git and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck unit heavy browser sandbox mutants validate-typer paradox-dry-run agents agents-e2e lock clean

install: $(STAMP) sandbox

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: $(STAMP) sandbox
	$(BIN)/armbench demo --out runs

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) browser sandbox
	$(BIN)/pytest -n 3 --dist loadscope --no-loadscope-reorder

# The HTML report's browser test drives the system's Chromium (playwright never downloads one).
# Install Debian's when it is missing and we can (root with apt-get); otherwise say why that
# test will skip. Never fails the build, and costs nothing when Chromium is already there.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the HTML report's browser test"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq chromium >/dev/null; } \
		|| echo "could not install chromium: the HTML report's browser test will be skipped"; \
	else \
		echo "no $(CHROMIUM), and installing it needs root and apt-get: the HTML report's browser test will be skipped"; \
	fi

# Trials run each command in a bubblewrap sandbox wherever `bwrap` works (README, "Sandbox").
# Install Debian's when it is missing and we can (root with apt-get); otherwise say why runs
# will fall back to plain processes and the attack suite will skip. Never fails the build.
sandbox:
	@if command -v bwrap >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's bubblewrap: the sandbox every trial's commands run in"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq bubblewrap >/dev/null; } \
		|| echo "could not install bubblewrap: runs will use plain processes (isolation by convention) and the attack suite will skip"; \
	else \
		echo "no bwrap, and installing it needs root and apt-get: runs will use plain processes (isolation by convention) and the attack suite will skip"; \
	fi

# The three at once: pytest's workers leave part of two cores idle (its tests wait on
# subprocesses and sandboxes; three workers kept 1.6 of 2 cores busy), which ruff and a cold
# mypy (under a minute of CPU) can fill instead of running before it.
test: $(STAMP) browser sandbox
	@$(MAKE) --no-print-directory -j3 lint typecheck unit

# The robustness runs `make test` leaves out to stay under 10 minutes (pytest marker `heavy`):
# SIGKILL at 20 moments then resume, and a local Ray cluster (about 2 minutes). CI runs them.
heavy: $(STAMP) sandbox
	$(BIN)/pytest -n 2 --dist loadscope -m heavy

# Break each guarded contract in a scratch copy and show its tests going red (about 6 minutes).
mutants: $(STAMP)
	$(BIN)/python scripts/mutants.py

# The typer pack's full validation: fetches typer 0.26.8 and builds its locked toolchain once
# (network: PyPI), then judges each task's untouched workspace and its reference three times
# each, running typer's whole test suite every time (about 35 minutes on 2 cores).
validate-typer: $(STAMP) sandbox
	$(BIN)/armbench tasks validate typer

# The external agents an `external` arm runs (aider, mini-swe-agent, Claude Code), each in its
# own cached environment pinned by version (~1.4 GB from PyPI and npm, once), then their
# end-to-end tests on serve-sim (tests/e2e/test_external_agents.py; `make test` skips them).
agents: $(STAMP)
	$(BIN)/armbench agents install

agents-e2e: agents sandbox
	ARMBENCH_AGENT_TESTS=1 $(BIN)/pytest -p no:xdist tests/e2e/test_external_agents.py

# The published experiment's 12 cells (arms A-D x typer T1-T3) on simulated models, offline
# once the sdist and the toolchain are cached; prints wall, judge and harness time per trial.
paradox-dry-run: $(STAMP) sandbox
	$(BIN)/python benchmarks/paradox_dry_run.py

# Regenerate the lock after editing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip compile pyproject.toml requirements-build.in --extra dev --universal \
		--python-version 3.11 --generate-hashes --quiet -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
