"""Connecting through PyMySQL with one shared TLS context for preferred mode (dialects/mysql_driver.py):
the same negotiation as PyMySQL's own, without loading the system's CA store per connect."""

from __future__ import annotations

import ssl
from pathlib import Path

import pymysql  # type: ignore[import-untyped]
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from fastapi_alembic.dialects.engines import make_engine
from fastapi_alembic.dialects.mysql_driver import preferred_tls_context, pymysql_connection_class
from tests.support.backends import require_server


def pymysql_preferred_context() -> ssl.SSLContext:
    """The context PyMySQL itself builds when given no TLS options."""
    connection = object.__new__(pymysql.connections.Connection)
    context = connection._create_ssl_ctx({})
    assert isinstance(context, ssl.SSLContext)
    return context


def test_the_shared_context_negotiates_as_pymysqls_own() -> None:
    theirs, ours = pymysql_preferred_context(), preferred_tls_context()
    for attribute in (
        "check_hostname",
        "verify_mode",
        "verify_flags",
        "options",
        "minimum_version",
        "maximum_version",
        "protocol",
    ):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    # Neither verifies a certificate, so the store PyMySQL loads is never read: ours has none.
    assert ours.verify_mode is ssl.CERT_NONE and not ours.check_hostname
    assert ours.cert_store_stats()["x509_ca"] == 0
    assert preferred_tls_context() is ours  # one per process


def test_explicit_tls_options_stay_pymysqls(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    connection_class = pymysql_connection_class()
    with pytest.raises(FileNotFoundError):
        connection_class(host="127.0.0.1", ssl_ca=str(missing), defer_connect=True)
    given = ssl.create_default_context()
    connection = connection_class(host="127.0.0.1", ssl=given, defer_connect=True)
    assert connection.ctx is given and connection._ssl_required


@pytest.mark.mysql
def test_our_engines_connect_with_the_shared_context() -> None:
    engine = make_engine(make_url(require_server("mysql")))
    assert isinstance(engine, Engine)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
            driver_connection = connection.connection.driver_connection
            assert isinstance(driver_connection, pymysql_connection_class())
            assert driver_connection.ctx is preferred_tls_context()
    finally:
        engine.dispose()
