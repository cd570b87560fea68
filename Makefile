# The two set-up commands: `make demo` serves the social example API, `make test` runs every check.
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv/bin

.PHONY: bench-upgrade bench-scale bench-startup demo demo-todo test test-wheel test-autogen test-envs test-matrix test-lowest lint typecheck bench docs clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.synced: pyproject.toml $(wildcard uv.lock) | $(UV)
	$(UV) sync --all-extras --compile-bytecode --python $(PYTHON)
	touch $@

demo: .venv/.synced
	cd examples/social && ../../$(VENV)/python -m social --host $(HOST) --port $(PORT)

demo-todo: .venv/.synced
	cd examples/todo && ../../$(VENV)/python -m todo --host $(HOST) --port $(PORT)

lint: .venv/.synced
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

typecheck: .venv/.synced
	$(VENV)/mypy

test: lint typecheck
	$(MAKE) test-wheel
	$(VENV)/pytest -n 2
	$(MAKE) test-lowest

# The package as users get it: the wheel built, installed (not editable) into a fresh virtual
# environment, and the tour's first steps run from it on SQLite (tests/packaging/smoke.py), so
# a file left out of the wheel fails here. Seconds: uv's cache serves the dependencies.
WHEEL_TEST := .wheel-test
test-wheel: | $(UV)
	rm -rf $(WHEEL_TEST)
	$(UV) build --quiet --wheel --out-dir $(WHEEL_TEST)/dist
	$(UV) venv --quiet --python $(PYTHON) $(WHEEL_TEST)/venv
	$(UV) pip install --quiet --compile-bytecode --python $(WHEEL_TEST)/venv/bin/python $(WHEEL_TEST)/dist/*.whl
	$(WHEEL_TEST)/venv/bin/python tests/packaging/smoke.py

# The oldest versions pyproject.toml allows (Alembic, SQLAlchemy, Typer, Rich, sqlglot), in a
# venv of their own, on a representative slice of the tests (SQLite: every verb, the env.py shapes;
# not [tool.alembic], which needs Alembic 1.16, nor the unreachable-PostgreSQL case of history's
# note, which needs a PostgreSQL driver this venv does not install). anyio is for the env.py
# shape that runs in a worker thread of an event loop (anyio.from_thread).
LOWEST := .venv-lowest/bin
.venv-lowest/.synced: pyproject.toml | $(UV)
	rm -rf .venv-lowest
	$(UV) venv --quiet --python $(PYTHON) .venv-lowest
	$(UV) pip install --quiet --compile-bytecode --python $(LOWEST)/python --resolution lowest-direct -e ".[aiosqlite]"
	$(UV) pip install --quiet --compile-bytecode --python $(LOWEST)/python pytest pytest-xdist pydantic-settings anyio
	touch $@

test-lowest: .venv-lowest/.synced
	$(LOWEST)/python -c "import alembic, sqlalchemy; print('lowest versions: alembic', alembic.__version__, 'sqlalchemy', sqlalchemy.__version__)"
	$(LOWEST)/pytest -n 2 tests/cli/test_verbs.py tests/e2e/test_env_shapes.py -k "sqlite and not plugin and not prints and not pyproject and not cannot_mark"

test-autogen: .venv/.synced
	AUTOGEN_CORPUS=1 $(VENV)/pytest -n 2 -m autogen_corpus tests/autogen

# The whole env.py-shapes matrix (every shape, backend and verb); `make test` runs a slice.
test-envs: .venv/.synced
	$(VENV)/pytest -n 2 -m envs tests/e2e/test_env_shapes.py tests/adoption/test_adopt_configs.py

# The whole bad-input matrix (every scenario x every verb) and a longer run of the
# property-based password test; the default suite runs a slice of each.
test-matrix: .venv/.synced
	FM_SECRET_EXAMPLES=200 $(VENV)/pytest -n 2 --matrix tests/e2e/test_matrix.py tests/e2e/test_secrets.py tests/e2e/test_hostile.py

bench: .venv/.synced
	$(VENV)/python -m bench.status_overhead

bench-scale: .venv/.synced
	$(VENV)/python -m bench.history_scale

bench-upgrade: .venv/.synced
	$(VENV)/python -m bench.upgrade_speed

bench-startup: .venv/.synced
	$(VENV)/python -m bench.cli_startup

bench-provisioning: .venv/.synced
	$(VENV)/python -m bench.provisioning

bench-autogen: .venv/.synced
	$(VENV)/python -m bench.autogen_fidelity
	$(VENV)/python -m bench.autogen_speed

bench-concurrency: .venv/.synced
	$(VENV)/python -m bench.concurrent_start

clean:
	rm -rf .venv .venv-lowest .wheel-test .tools .pytest_cache .mypy_cache .ruff_cache

docs: .venv/.synced
	$(VENV)/python -m fastapi_alembic.lint.docs docs/lint.md

bench-lint: .venv/.synced
	$(VENV)/python -m bench.lint_corpus
