"""The names of the databases FastAPI-Alembic makes on a server, and telling them apart.

Test templates, the copies handed to tests, the templates being built and the scratch
databases of `check` and `test` all start with one prefix (``faa`` unless
``test_database_prefix`` in pyproject.toml, ``--migrate-prefix`` or ``prefix=`` says
otherwise), followed by a letter for their kind::

    faa_t_<app>_<key>                       a template: one app at one state of its migrations
    faa_b_<app>_<host>_<pid>_<random>       a template being built
    faa_c_<app>_<host>_<pid>_<random>       a copy handed to a test
    faa_s_<purpose>_<host>_<pid>_<random>   a scratch database of `check` or `test`

``<app>`` hashes the migrations folder's path, ``<key>`` its files, ``<host>`` the machine's
name; ``<pid>`` is the process that made it. :func:`parse` recognises exactly these shapes (and
nothing else that merely starts with the prefix), so listing and dropping never reach a
database that is not ours. All names fit PostgreSQL's 63 and MySQL's 64 characters.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import socket
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PREFIX = "faa"
#: Where the pytest plugin makes test databases (a server URL) when not given --migrate-url.
TEST_URL_VARIABLE = "FASTAPI_ALEMBIC_TEST_URL"
TEMPLATE, BUILDING, COPY, SCRATCH = "t", "b", "c", "s"
KIND_NAMES = {TEMPLATE: "template", BUILDING: "building", COPY: "copy", SCRATCH: "scratch"}
_PREFIX = re.compile(r"[a-z][a-z0-9_]{0,19}")
_MAX_PURPOSE = 12


def prefix_problem(prefix: object, given_as: str = "") -> str | None:
    """Why ``prefix`` cannot name our databases, or None when it can (``given_as``: where it
    was set, for the sentence)."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix) or prefix.endswith("_"):
        where = f" ({given_as})" if given_as else ""
        return (
            f"The test database prefix {prefix!r}{where} is not valid: use 1 to 20 lower-case "
            "letters, digits and underscores, starting with a letter and not ending with an "
            f"underscore (default {DEFAULT_PREFIX!r})."
        )
    return None


def short_hash(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def app_tag(directory: Path) -> str:
    """An app (its migrations folder), as the names carry it."""
    return short_hash(str(directory.resolve()), 6)


def host_tag() -> str:
    """This machine, as the names carry it."""
    return short_hash(socket.gethostname(), 4)


def template_name(prefix: str, app: str, key: str) -> str:
    return f"{prefix}_{TEMPLATE}_{app}_{key}"


def unique_name(prefix: str, kind: str, app: str) -> str:
    """A new name for a template being built or a copy, owned by this process."""
    return f"{prefix}_{kind}_{app}_{host_tag()}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def scratch_name(prefix: str, purpose: str) -> str:
    """A new name for a scratch database (``purpose``: what it is for, a word)."""
    word = re.sub(r"[^a-z0-9]", "", purpose.lower())[:_MAX_PURPOSE] or "scratch"
    return f"{prefix}_{SCRATCH}_{word}_{host_tag()}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class OurName:
    """A database name in one of our shapes, taken apart."""

    name: str
    kind: str  # TEMPLATE, BUILDING, COPY or SCRATCH
    app: str | None = None
    host: str | None = None
    pid: int | None = None

    @property
    def described(self) -> str:
        return KIND_NAMES[self.kind]


def parse(prefix: str, name: str) -> OurName | None:
    """``name`` taken apart when it is one of ours under ``prefix``, else None."""
    start = re.escape(prefix)
    found = re.fullmatch(rf"{start}_{TEMPLATE}_([0-9a-f]{{6}})_([0-9a-f]{{12}})", name)
    if found:
        return OurName(name, TEMPLATE, app=found[1])
    owned = r"_([0-9a-f]{4})_([0-9]{1,7})_[0-9a-f]{8}"
    found = re.fullmatch(rf"{start}_([{BUILDING}{COPY}])_([0-9a-f]{{6}}){owned}", name)
    if found:
        return OurName(name, found[1], app=found[2], host=found[3], pid=int(found[4]))
    found = re.fullmatch(rf"{start}_{SCRATCH}_[a-z0-9]{{1,{_MAX_PURPOSE}}}{owned}", name)
    if found:
        return OurName(name, SCRATCH, host=found[1], pid=int(found[2]))
    return None


def default_sqlite_folder() -> Path:
    """A per-user folder that outlives a test run, so a SQLite template is reused next time."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    return Path(tempfile.gettempdir()) / f"fastapi-alembic-{user}"


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (when it cannot be told: assume it does)."""
    if sys.platform == "win32":  # no cheap probe: assume it is alive and leave its databases
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
