"""Running a project's env.py inside our jobs: what it connects to, where, and how it fails.

While our jobs run, ``ScriptDirectory.run_env`` (what every Alembic command calls to execute
env.py) goes through :func:`guarded_run_env`:

- each connection opened meanwhile is checked before it opens (connect_checks.py), against
  the database the job was given;
- an env.py that needs a thread of its own (Alembic's async template ends in
  ``asyncio.run()``, which cannot run inside our async connection's event loop; an env.py
  that calls ``anyio.from_thread.run`` needs to be in a worker thread of an event loop) is
  run again in a worker thread of a fresh event loop, when it stopped for that reason
  before it configured anything;
- anything env.py raises before its migrations run is one sentence naming env.py, the line
  and the exception (a migration's own failure is the job's to explain);
- in *discovery* (config.attributes[DISCOVERY_KEY]), env.py is stopped at its first
  ``configure`` or connection, having set whatever it sets (``version_locations``).
"""

from __future__ import annotations

import contextvars
import gc
import sys
import threading
import traceback
import warnings
from collections.abc import Callable
from configparser import Error as ConfigParserError
from configparser import RawConfigParser
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import asbool
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import InvalidRequestError, MissingGreenlet

from fastapi_alembic.connect_checks import checking
from fastapi_alembic.errors import ConfigError, MigrationsError
from fastapi_alembic.migration_guards import release_kept_locks
from fastapi_alembic.urls import mask_text

PIN_KEY = "fastapi_alembic.database_pin"
DISCOVERY_KEY = "fastapi_alembic.discovering"
#: How many times env.py called configure in this Config's runs.
CONFIGURED_KEY = "fastapi_alembic.configured"
SETTINGS_KEY = "fastapi_alembic.settings"  # as env.py (the module) names it


class Discovered(BaseException):
    """env.py reached configure or a connection while only being read for its settings
    (a BaseException: an env.py's ``except Exception`` does not swallow it)."""


class _StopAtConnect:
    def before_connect(self, dialect: Dialect, cargs: list[Any], cparams: dict[str, Any]) -> None:
        raise Discovered


original_run_env = ScriptDirectory.run_env


def guarded_run_env(script: ScriptDirectory) -> None:
    """ScriptDirectory.run_env while our jobs run (see the module's docstring)."""
    from alembic import context as alembic_context

    environment = getattr(alembic_context, "_proxy", None)
    config: Config | None = getattr(environment, "config", None)
    if config is None or not _ours(config):
        original_run_env(script)
        return
    env_py = Path(script.dir) / "env.py"
    pin = config.attributes.get(PIN_KEY)
    discovering = bool(config.attributes.get(DISCOVERY_KEY))
    checker = _StopAtConnect() if discovering else pin
    with checking(checker) if checker is not None else nullcontext():
        try:
            try:
                _run(script, config)
            finally:
                # env.py has committed (or ended) what it began: its locks can go now.
                release_kept_locks(config.attributes)
        except Discovered:
            return
        except MigrationsError:
            raise
        except Exception as error:
            refusal = getattr(pin, "refusal", None)
            if refusal is not None:  # whatever env.py made of our refusal, it is the answer
                raise refusal from None
            if discovering:
                return  # what env.py set before it failed is what there is to read
            if _while_migrating(error) or _driver_kind(error):
                raise  # the job explains these in its own words
            raise env_failure(error, env_py, config) from None
    refusal = getattr(pin, "refusal", None)
    if refusal is not None:  # env.py swallowed it
        raise refusal


def env_py_may_move_versions(revision_environment: str | None, directory: Path) -> bool:
    """Whether env.py may name revision folders of its own (version_folders.py): it mentions
    version_locations, or alembic.ini asks for env.py to run for every command
    (``revision_environment``)."""
    if asbool(revision_environment):
        return True
    try:
        return "version_locations" in (directory / "env.py").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def ini_revision_environment(ini: Path, section: str) -> str | None:
    """``revision_environment`` in the section of alembic.ini ``ini``, read without Alembic
    (the start-up gate's path)."""
    parser = RawConfigParser()
    try:
        parser.read(ini, encoding="utf-8")
    except (ConfigParserError, OSError, UnicodeDecodeError):
        return None
    return parser.get(section, "revision_environment", fallback=None)


def _ours(config: Config) -> bool:
    return any(key in config.attributes for key in (PIN_KEY, DISCOVERY_KEY, SETTINGS_KEY))


def _run(script: ScriptDirectory, config: Config) -> None:
    configured = config.attributes.get(CONFIGURED_KEY, 0)
    with warnings.catch_warnings():
        # The coroutine of an asyncio.run() that refused to start is never awaited.
        warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
        try:
            original_run_env(script)
            return
        except Exception as error:
            if (
                not needs_own_thread(error)
                or config.attributes.get(CONFIGURED_KEY, 0) != configured
            ):
                raise
            traceback.clear_frames(error.__traceback__)
            del error
            gc.collect()
    prepare = getattr(config.attributes.get(PIN_KEY), "prepare_for_thread", None)
    if prepare is not None:
        prepare(config.attributes.get("connection"))
    in_worker_thread(lambda: original_run_env(script))


def needs_own_thread(error: BaseException) -> bool:
    """env.py stopped because it runs an event loop of its own inside ours, or because it
    wants the event loop of the worker thread it expects to be in."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:  # env.py may wrap it in its own
        seen.add(id(cause))
        text = str(cause)
        if (
            (
                isinstance(cause, RuntimeError)
                and "cannot be called from a running event loop" in text
            )
            or type(cause).__name__ == "NoEventLoopError"
            or "AnyIO worker thread" in text
        ):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def in_worker_thread(function: Callable[[], None]) -> None:
    """Run ``function`` in a worker thread of an event loop of its own (AnyIO's, when it is
    installed), in a thread with no running event loop, with our context variables."""
    context = contextvars.copy_context()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            context.run(_on_worker, function)
        except BaseException as error:  # handed to the caller's thread
            failure.append(error)

    thread = threading.Thread(target=target, name="fastapi-alembic env.py")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _on_worker(function: Callable[[], None]) -> None:
    try:
        import anyio
        import anyio.to_thread
    except ImportError:
        function()
        return

    async def main() -> None:
        await anyio.to_thread.run_sync(function)

    anyio.run(main)


def _driver_kind(error: BaseException) -> bool:
    """A sync engine given an async URL, or the reverse (workspace.py says which)."""
    return isinstance(error, MissingGreenlet) or (
        isinstance(error, InvalidRequestError) and "requires an async driver" in str(error)
    )


def _while_migrating(error: BaseException) -> bool:
    """Whether ``error`` was raised while Alembic ran the migrations env.py asked for."""
    return any(
        frame.name == "run_migrations" and "alembic" in Path(frame.filename).parts
        for frame in traceback.extract_tb(error.__traceback__)
    )


def env_failure(error: BaseException, env_py: Path, config: Config) -> ConfigError:
    """The sentence for an exception env.py raised before any migration ran."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if _same_file(frame.filename, env_py)
    ]
    where = f"{env_py}, line {frames[-1].lineno}," if frames else str(env_py)
    pin = config.attributes.get(PIN_KEY)
    password = getattr(getattr(pin, "url", None), "password", None)
    message = (str(error).strip().splitlines() or [""])[0]
    detail = f"{type(error).__name__}: {mask_text(message, password)}".rstrip(": ")
    if getattr(config.attributes.get(SETTINGS_KEY), "verbose", False):
        traceback.print_exception(error, file=sys.stderr)
    return ConfigError(
        f"{where} raised {detail}, so nothing was run: fix env.py (run with -v to see the "
        "traceback)."
    )


def _same_file(one: str, other: Path) -> bool:
    try:
        return Path(one).resolve() == other.resolve()
    except OSError:
        return False
