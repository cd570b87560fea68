"""Opening connections, sync or async, with unreachable servers turned into one sentence.

Every engine is made here, and prepared by its backend's DialectSupport (found through the
registry, which loads the backend's module when first asked).

Everything above this module works on a plain sync ``Connection``: for async drivers
(asyncpg, aiosqlite, aiomysql, asyncmy) the work runs through ``AsyncConnection.run_sync``.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from fastapi_alembic.dialects.registry import backend_name, support
from fastapi_alembic.errors import ConfigError, DatabaseUnreachable
from fastapi_alembic.urls import mask_text, mask_url

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


def is_async_url(url: URL) -> bool:
    try:
        return bool(url.get_dialect().is_async)
    except NoSuchModuleError:
        raise ConfigError(
            f"{url.drivername!r} in {mask_url(url)} is not a database SQLAlchemy knows."
        ) from None


#: The extra that installs a driver, by (backend, driver); None stands for the bare URL
#: (``postgresql://``), which urls.parse_url points at the driver the extra installs.
_EXTRAS = {
    ("postgresql", None): "postgresql",
    ("postgresql", "psycopg"): "postgresql",
    ("postgresql", "psycopg_async"): "postgresql",
    ("postgresql", "asyncpg"): "asyncpg",
    ("mysql", None): "mysql",
    ("mysql", "pymysql"): "mysql",
    ("mysql", "aiomysql"): "aiomysql",
    ("sqlite", "aiosqlite"): "aiosqlite",
}
#: The extras that bring greenlet (SQLAlchemy's asyncio extra) with their async driver.
_ASYNC_EXTRAS = {"asyncpg", "aiomysql", "aiosqlite"}
#: The package to install for a driver no extra of ours brings, by SQLAlchemy's driver name.
_PACKAGES = {
    "psycopg2": "psycopg2-binary",
    "psycopg2cffi": "psycopg2cffi",
    "pg8000": "pg8000",
    "asyncmy": "asyncmy",
    "mysqldb": "mysqlclient",
    "mysqlconnector": "mysql-connector-python",
    "mariadbconnector": "mariadb",
    "pysqlcipher": "sqlcipher3-binary",
    "oracledb": "oracledb",
    "cx_oracle": "cx_Oracle",
    "pyodbc": "pyodbc",
    "aioodbc": "aioodbc",
    "pymssql": "pymssql",
}


def missing_driver(url: URL, error: ImportError) -> ConfigError:
    """The sentence for a driver (or greenlet, which async drivers need) that is not
    installed, naming the extra that brings it for ``url``, or else the package to install."""
    backend = url.get_backend_name()
    driver = url.drivername.partition("+")[2] or None
    extra = _EXTRAS.get((backend_name(backend) or backend, driver))
    if error.name == "greenlet" and extra not in _ASYNC_EXTRAS:
        install = "`pip install greenlet`"  # psycopg's async side: the extra brings no greenlet
    elif extra is not None:
        install = f'`pip install "fastapi-alembic[{extra}]"`'
    else:
        package = _PACKAGES.get(driver or "") or (error.name or driver or backend).split(".")[0]
        install = f"`pip install {package}`"
    why = f"no module named {error.name!r}" if error.name else str(error).rstrip(".")
    return ConfigError(
        f"The driver for {url.drivername} is not installed ({why}): install it with {install}."
    )


def make_engine(url: URL, **options: Any) -> Engine | AsyncEngine:
    """An engine for ``url`` with the dialect's adjustments, sync or async by driver."""
    options.setdefault("poolclass", NullPool)
    try:
        if is_async_url(url):
            # Async engines run the driver through greenlet; without it SQLAlchemy fails only
            # at the first query, with a ValueError.
            if importlib.util.find_spec("greenlet") is None:
                raise missing_driver(url, ModuleNotFoundError(name="greenlet"))
            # Imported here: sync-only installs need no greenlet.
            from sqlalchemy.ext.asyncio import create_async_engine

            async_engine = create_async_engine(url, **options)
            _prepare(url, async_engine.sync_engine)
            return async_engine
        engine = create_engine(url, **options)
    except ImportError as error:
        raise missing_driver(url, error) from None
    _prepare(url, engine)
    return engine


def _prepare(url: URL, engine: Engine) -> None:
    """The backend's adjustments to a new engine (none for a backend no one registered)."""
    dialect = support(url.get_backend_name())
    if dialect is not None:
        dialect.prepare_engine(engine)


def unreachable(url: URL, error: BaseException) -> DatabaseUnreachable:
    original = getattr(error, "orig", None) or error
    reason = (str(original).strip().splitlines() or [type(original).__name__])[0]
    if "statement pooling mode" in reason:  # PgBouncer's pool_mode = statement
        return DatabaseUnreachable(
            f"Cannot use the database at {mask_url(url)}: it is reached through a pooler in "
            f"statement mode ({reason}), where no transaction spans two statements, so "
            "nothing can be read or migrated safely: point the URL at the pooler's "
            "transaction or session mode, or at the database directly."
        )
    return DatabaseUnreachable(
        f"Cannot connect to the database at {mask_url(url)}: "
        f"{mask_text(reason, url.password)}. Check the URL, the credentials and that the "
        "server is running."
    )


# UnicodeError: a host name the IDNA codec refuses (a label over 63 characters).
CONNECT_ERRORS = (DBAPIError, OSError, asyncio.TimeoutError, UnicodeError)


def refused_options(url: URL, error: TypeError) -> ConfigError:
    """The driver's connect() rejected a keyword: an unknown option in the URL's query."""
    return ConfigError(
        f"The driver of {mask_url(url)} does not accept the options in its query string "
        f"({mask_text(str(error), url.password)}): remove or rename them."
    )


def connect(engine: Engine, url: URL) -> Connection:
    """A new connection, or the one sentence that says why the database cannot be reached
    (or does not take the URL's options)."""
    try:
        return engine.connect()
    except CONNECT_ERRORS as error:
        raise unreachable(url, error) from None
    except TypeError as error:
        raise refused_options(url, error) from None


def run_with_connection(
    url: URL,
    work: Callable[[Connection], T],
    *,
    autocommit: bool = False,
    own_transactions: bool = False,
) -> T:
    """Run ``work`` on a connection to ``url`` inside one transaction (committed when it
    returns, rolled back when it raises), or with AUTOCOMMIT for CREATE/DROP DATABASE.

    With ``own_transactions`` the connection starts outside any transaction: ``work`` begins
    and commits its own (Alembic's context does), and what it leaves open is committed.
    """
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    engine = make_engine(url, **options)
    if not isinstance(engine, Engine):
        return _run_async(url, engine, work, autocommit or own_transactions)
    try:
        with connect(engine, url) as connection:
            if autocommit:
                return work(connection)
            if own_transactions:
                done = work(connection)
                connection.commit()
                return done
            with connection.begin():
                return work(connection)
    finally:
        engine.dispose()


def _run_async(
    url: URL, engine: AsyncEngine, work: Callable[[Connection], T], without_begin: bool
) -> T:
    async def main() -> T:
        try:
            try:
                connection = await engine.connect()
            except CONNECT_ERRORS as error:
                raise unreachable(url, error) from None
            except TypeError as error:
                raise refused_options(url, error) from None
            try:
                if without_begin:
                    done = await connection.run_sync(work)
                    await connection.commit()
                    return done
                async with connection.begin():
                    return await connection.run_sync(work)
            finally:
                await connection.close()
        finally:
            await engine.dispose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    # Called from inside an event loop (an async app's start-up): use a loop of our own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()
