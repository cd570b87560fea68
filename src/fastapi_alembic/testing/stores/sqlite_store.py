"""SQLite's template copies for the test suite: templates are files (a copy is a file copy),
or in-memory databases shared by name within the process (copied with the backup API)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL

from fastapi_alembic.dialects.base import DialectSupport
from fastapi_alembic.dialects.sqlite import is_file_database, remove_lock_files
from fastapi_alembic.testing.stores.base_store import TemplateStore


def sqlite_store(dialect: DialectSupport, server: URL) -> TemplateStore:
    """Files beside the server URL's database, or in memory for an in-memory URL."""
    if is_file_database(server):
        return SQLiteFileStore(dialect, server)
    return SQLiteMemoryStore(dialect, server)


class SQLiteFileStore(TemplateStore):
    """Templates are files in the folder of the server URL; a copy is a file copy."""

    def __init__(self, dialect: DialectSupport, server: URL) -> None:
        super().__init__(dialect, server)
        self.folder = Path(server.database or "").parent
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.db"

    def name_of(self, url: URL) -> str:
        return Path(url.database or "").stem

    def names(self, prefix: str) -> list[str]:
        return [p.stem for p in self.folder.glob(f"{prefix}*.db")]

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def publish(self, built: URL, name: str) -> None:
        # Atomic: a reader sees the old file, the new one, or none, never half of one.
        remove_lock_files(Path(built.database or ""))
        os.replace(built.database or "", self._path(name))

    def copy(self, template: str, name: str) -> URL:
        shutil.copyfile(self._path(template), self._path(name))
        return self.url_of(name)


class SQLiteMemoryStore(TemplateStore):
    """In-memory databases, shared by name within this process, copied with the backup API.

    Each database lives while the store holds a connection to it, so templates last as long
    as the store (one test session), and a copy until it is dropped.
    """

    def __init__(self, dialect: DialectSupport, server: URL) -> None:
        super().__init__(dialect, server)
        self._keepers: dict[str, sqlite3.Connection] = {}

    def url_of(self, name: str) -> URL:
        return self.server.set(
            database=f"file:{name}", query={"mode": "memory", "cache": "shared", "uri": "true"}
        )

    def name_of(self, url: URL) -> str:
        return (url.database or "").removeprefix("file:")

    def _open(self, name: str) -> sqlite3.Connection:
        keeper = sqlite3.connect(f"file:{name}?mode=memory&cache=shared", uri=True)
        self._keepers[name] = keeper
        return keeper

    def names(self, prefix: str) -> list[str]:
        return [name for name in self._keepers if name.startswith(prefix)]

    def exists(self, name: str) -> bool:
        return name in self._keepers

    def build_target(self, name: str, building: str) -> URL:
        self._open(building)
        return self.url_of(building)

    def publish(self, built: URL, name: str) -> None:
        building = self.name_of(built)
        self.copy(building, name)
        self.drop(building)

    def copy(self, template: str, name: str) -> URL:
        self._keepers[template].backup(self._open(name))
        return self.url_of(name)

    def drop(self, name: str) -> None:
        keeper = self._keepers.pop(name, None)
        if keeper is not None:
            keeper.close()

    def close(self) -> None:
        for name in list(self._keepers):
            self.drop(name)
