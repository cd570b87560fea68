"""Whether the migration a ledger's "started" row names is still running: the row carries a
token of its run, of the server's life (its start time) and of the session on it, because a
session id alone is reused once the server restarts (MariaDB hands out connection ids from 1
again; PostgreSQL process ids come round too).

Imports no Alembic: the start-up gate reads the ledger.
"""

from __future__ import annotations

import os
import socket

from sqlalchemy import Connection

from fastapi_alembic.dialects import for_url


def session_token(connection: Connection, run: str) -> str:
    """What a "started" row says of the migration's session, so that a later reader can tell
    whether it is still running: ``run=<this run>;life=<the server's start>;conn=<session id>``
    (``conn=pid:<process id>`` where there is no server: SQLite). A session id alone is
    reused once the server restarts; with the server's life it names one session."""
    dialect = for_url(connection.engine.url)
    session = dialect.session_id(connection)
    life = dialect.server_life(connection) if session is not None else None
    conn = session if session is not None else f"pid:{os.getpid()}"
    return f"run={run};life={life or ''};conn={conn}"[:64]


def session_alive(connection: Connection, session_id: str | None, client_host: str | None) -> bool:
    """Whether the session a "started" row names is still running its migration."""
    dialect = for_url(connection.engine.url)
    if not session_id or not session_id.startswith("run="):
        return dialect.session_alive(connection, session_id)  # a row from before the tokens
    token = dict(part.partition("=")[::2] for part in session_id.split(";"))
    life, conn = token.get("life", ""), token.get("conn", "")
    if conn.startswith("pid:"):
        return client_host == socket.gethostname() and process_alive(conn.removeprefix("pid:"))
    if life and not dialect.same_server_life(connection, life):
        return False  # the server restarted since: every session of that life is gone
    return dialect.session_alive(connection, conn)


def process_alive(pid: str) -> bool:
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # there, run by another user
    return True
