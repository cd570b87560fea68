"""What lint knows of one backend: the server versions it assumes and how it reads table sizes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, inspect


def unknown_rows(connection: Connection) -> dict[str, int]:
    """Every table, each with -1: its size unknown (a backend without catalog statistics)."""
    return dict.fromkeys(inspect(connection).get_table_names(), -1)


@dataclass(frozen=True)
class BackendFacts:
    """One backend's part of lint, registered under the backend's name (lint/facts/__init__.py)."""

    #: The version assumed when no database says otherwise: the oldest still supported upstream.
    oldest_version: tuple[int, ...]
    #: Rows per table from the catalog's statistics, -1 where unknown (lint's sizes).
    table_rows: Callable[[Connection], dict[str, int]] = unknown_rows
    #: The oldest versions of other servers that speak this backend (MariaDB for MySQL).
    oldest_versions_of: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def oldest(self, server: str | None = None) -> tuple[int, ...]:
        """The version assumed for ``server`` (None: the backend's own)."""
        return self.oldest_versions_of.get(server or "", self.oldest_version)
