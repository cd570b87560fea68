"""What a generated migrations/env.py calls.

Run by FastAPI-Alembic, the settings and an open connection arrive in
``config.attributes``. Run by plain ``alembic``, the settings are read the same way the CLI
reads them (``-x url=...``, ``DATABASE_URL``, ``[tool.fastapi-alembic]``), so a migrations
folder made by ``fastapi-alembic init`` is an ordinary Alembic environment.
"""

from __future__ import annotations

import logging.config
from collections.abc import Callable
from configparser import ConfigParser
from pathlib import Path
from typing import Any

from alembic import context
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Connection

from fastapi_alembic.config import Settings, check_number, load_settings
from fastapi_alembic.dialects import for_url
from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.errors import MigrationsError
from fastapi_alembic.migration_guards import (
    GUARDED_ENV_KEY,
    SETTINGS_KEY,
    enable_our_loggers,
    run_guarded,
    skipping_our_tables,
)

#: Whether the job running env.py compares the models with the database (see uses_models).
MODELS_KEY = "fastapi_alembic.models"
CONNECTION_KEY = "connection"  # the key Alembic's own cookbook uses
# Alembic's verbs that run env.py but never read target_metadata: they move or read the
# version table. Importing an app's models can cost a large share of such a run.
_VERBS_WITHOUT_MODELS = frozenset({"upgrade", "downgrade", "stamp", "current"})


def run_migrations(*, url: str | Callable[[], Any] | None = None, **configure_options: Any) -> None:
    """Configure Alembic's context and run the migrations, online or offline.

    Keyword arguments go to ``context.configure`` (for example ``include_object``) and
    win over ours. The hooks of a FastAPI-Alembic job are added when ``configure`` is called
    (see fastapi_alembic.database_pinning), whatever the env.py.

    ``url`` (a string or a function returning one) is the database plain ``alembic`` uses
    when ``-x url=...`` is not given, before ``DATABASE_URL``: an adopted project keeps its
    own way of finding its database. FastAPI-Alembic's own commands never use it: they run
    on the database they are given.
    """
    config = context.config
    # Our runs are guarded here, not by the jobs' interception of an env.py of one's own.
    config.attributes[GUARDED_ENV_KEY] = True
    enable_our_loggers()
    try:
        settings = config.attributes.get(SETTINGS_KEY) or _settings_for_plain_alembic(config, url)
        database = settings.require_url()
        options = _configure_options(settings, config, configure_options)
    except MigrationsError as error:
        # Plain `alembic` prints a CommandError as one line, as we do.
        raise CommandError(str(error)) from None

    if context.is_offline_mode():
        context.configure(
            url=database, literal_binds=True, dialect_opts={"paramstyle": "named"}, **options
        )
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, **options)

        def run_in_transaction(before_commit: Callable[[], None]) -> None:
            with context.begin_transaction():
                context.run_migrations()
                # The ledger's rows kept for this transaction; also where the caller's
                # transaction (a connection handed over in one) is committed after us.
                before_commit()

        # Under the migration lock, with lock timeouts: see fastapi_alembic.migration_guards.
        run_guarded(config, context.script, context.get_context(), settings, run_in_transaction)

    try:
        connection = config.attributes.get(CONNECTION_KEY)
        if connection is not None:
            migrate(connection)
        else:
            # Alembic's context begins the transactions (autocommit_block needs it to).
            run_with_connection(database, migrate, own_transactions=True)
    except MigrationsError as error:
        if SETTINGS_KEY in config.attributes:
            raise  # the facade reports it, with its exit code
        raise CommandError(str(error)) from None


def _configure_options(
    settings: Settings, config: Config, overrides: dict[str, Any]
) -> dict[str, Any]:
    dialect = for_url(settings.require_url())
    options: dict[str, Any] = {
        "render_as_batch": dialect.render_as_batch,
        "transactional_ddl": dialect.transactional_ddl,
    }
    comparing = uses_models(config)
    if comparing:
        # Only a comparison reads these: upgrade and downgrade do not load autogenerate's code.
        from fastapi_alembic.autogen import compare_server_default, render_item

        options.update(
            compare_type=True,
            compare_server_default=compare_server_default,
            render_item=render_item,
        )
    options["include_name"] = skipping_our_tables(
        settings.ledger_table, overrides.pop("include_name", None)
    )
    options.update(overrides)
    if "target_metadata" not in options:  # an adopted env.py may name its own (a list, say)
        options["target_metadata"] = settings.metadata if comparing else None
    if "include_schemas" not in options and options["target_metadata"] is not None:
        from fastapi_alembic.autogen.schemas import schema_options

        options.update(schema_options(options["target_metadata"], options.get("include_name")))
    return options


def uses_models(config: Config) -> bool:
    """Whether this run of env.py needs the app's models: a comparison (``make``, ``check``,
    ``status``, ``alembic revision --autogenerate``) does; moving or reading the version table
    (``upgrade``, ``downgrade``, ``stamp``, ``current``) does not, so the models are not
    imported for it. Our jobs say which in ``config.attributes``; for plain ``alembic`` the
    verb on its command line decides, and anything unknown imports them."""
    wanted = config.attributes.get(MODELS_KEY)
    if isinstance(wanted, bool):
        return wanted
    command = getattr(config.cmd_opts, "cmd", None)
    verb = getattr(command[0], "__name__", None) if isinstance(command, tuple) else None
    return verb not in _VERBS_WITHOUT_MODELS


def _settings_for_plain_alembic(config: Config, url: str | Callable[[], Any] | None) -> Settings:
    ini = Path(config.config_file_name) if config.config_file_name else None
    root = ini.parent if ini else Path.cwd()
    if ini is not None:
        _configure_logging(ini)
    x_arguments = context.get_x_argument(as_dictionary=True)
    # The folder Alembic itself loaded: alembic.ini, a named section or [tool.alembic].
    script_location = context.script.dir
    # -x lock_wait=60 (and lock_timeout, lock_retries) as the CLI's --lock-wait.
    numbers = {
        key: check_number(key, _as_number(x_arguments[key]), f"(-x {key}=...)")
        for key in ("lock_wait", "lock_timeout", "lock_retries")
        if key in x_arguments
    }
    locks: dict[str, Any] = {
        "lock_wait": numbers.get("lock_wait"),
        "lock_timeout": numbers.get("lock_timeout"),
        "lock_retries": int(numbers["lock_retries"]) if "lock_retries" in numbers else None,
    }
    given = x_arguments.get("url") or (url() if callable(url) else url)
    # The last fallback is sqlalchemy.url in the ini file and section Alembic was given.
    return load_settings(
        url=str(given) if given else None,
        directory=root / script_location,
        root=root,
        section=config.config_ini_section,
        alembic_ini=ini,
        **locks,
    )


def _as_number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def _configure_logging(ini: Path) -> None:
    parser = ConfigParser()
    parser.read(ini)
    if parser.has_section("loggers"):
        logging.config.fileConfig(ini, disable_existing_loggers=False)
