"""Opening a PyMySQL connection without loading a certificate store it never uses.

Given no TLS options, PyMySQL (1.2 and later) uses TLS when the server offers it and plain TCP
otherwise ("preferred" mode). For that it builds a new default SSL context on every connect,
which reads the system's CA certificates (17 to 40 ms on a small machine), and then sets that
context to verify neither the certificate nor the host name, so the certificates are never
used. :func:`preferred_tls_context` is the same context made once per process without the
store; :func:`pymysql_connection_class` hands it to PyMySQL for preferred mode only, and leaves
every explicit TLS option (``ssl``, ``ssl_ca``, ``ssl_verify_cert``, ...) to PyMySQL.

The start-up probe and the MySQL dialect's engines both connect this way. Imports neither
SQLAlchemy nor PyMySQL until asked.
"""

from __future__ import annotations

import functools
import os
import ssl
import sys
from typing import Any


@functools.cache
def preferred_tls_context() -> ssl.SSLContext:
    """What PyMySQL builds for preferred mode, less the unused CA store (one per process:
    a context is safe to share between connections and threads)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    context.options |= ssl.OP_NO_SSLv2 | ssl.OP_NO_SSLv3
    # The rest of what ssl.create_default_context() sets on this Python, for a context alike
    # in everything but the store.
    if sys.version_info >= (3, 13):
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    return context


@functools.cache
def pymysql_connection_class() -> type[Any]:
    """PyMySQL's Connection, with the shared context for preferred mode."""
    import pymysql.connections  # type: ignore[import-untyped]

    class Connection(pymysql.connections.Connection):  # type: ignore[misc]
        def _create_ssl_ctx(self, sslp: Any, *more: Any, **named: Any) -> Any:
            # Only the exact call preferred mode makes; anything else (or a future
            # signature) is PyMySQL's own.
            if isinstance(sslp, dict) and not sslp and not more and not named:
                return preferred_tls_context()
            return super()._create_ssl_ctx(sslp, *more, **named)

    return Connection


__all__ = ["preferred_tls_context", "pymysql_connection_class"]
