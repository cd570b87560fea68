"""What a rule sees: one direction of one revision on one backend, and the world around it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from fastapi_alembic.lint.facts import backends, facts_of
from fastapi_alembic.lint.model import Action, Direction, Kind, Reading, Severity
from fastapi_alembic.lint.schema_state import SchemaState


@dataclass(frozen=True)
class Silence:
    """``# fastapi-alembic: allow <rule> -- <why>`` in a revision file."""

    rules: tuple[str, ...]
    reason: str
    line: int


@dataclass
class Environment:
    """Where the revisions will run, as far as lint knows."""

    backends: tuple[str, ...] = field(default_factory=backends)
    #: server version per backend, when a database said so
    versions: dict[str, tuple[int, ...]] = field(default_factory=dict)
    mariadb: bool = False
    #: rows per table in the live database, or None without a database
    rows: Mapping[str, int] | None = None
    #: tables whose count stopped at the threshold: "more than" that many rows
    rows_at_least: set[str] = field(default_factory=set)
    threshold: int = 10_000
    #: table -> columns the current models map, when the models could be loaded
    model_columns: dict[str, set[str]] | None = None
    #: top-level packages of the application (imports of these from a revision are models)
    app_packages: tuple[str, ...] = ()
    #: modules the project's script.py.mako imports into every revision it writes
    template_imports: frozenset[str] = frozenset()
    #: the lock_timeout (seconds) FastAPI-Alembic's runner sets around every migration; 0: none
    runner_lock_timeout: float = 0.0
    #: the head revisions: the models describe the schema there
    heads: frozenset[str] = frozenset()

    def version(self, backend: str) -> tuple[int, ...]:
        """The server version of ``backend``: as a database said, else the oldest supported."""
        server = "mariadb" if self.mariadb else None
        return self.versions.get(backend) or facts_of(backend).oldest(server)


@dataclass(frozen=True)
class Hit:
    """What a rule's check yields: a message and what it is about."""

    message: str
    action: Action | None = None
    table: str | None = None
    column: str | None = None
    line: int | None = None
    severity: Severity | None = None  # overrides the rule's own, for a finding of another level
    name: str | None = None  # what else the finding is about: a module, a setting, an index


@dataclass
class RuleContext:
    revision: str
    path: str
    backend: str
    direction: Direction
    reading: Reading
    upgrade: Reading
    before: SchemaState
    environment: Environment
    silences: tuple[Silence, ...] = ()
    imports: tuple[tuple[str, int], ...] = ()  # (module, line) imported by the revision file
    history_tables: frozenset[str] = frozenset()  # every table some revision creates

    @property
    def actions(self) -> list[Action]:
        return self.reading.actions

    def of_kind(self, *kinds: Kind) -> Iterator[Action]:
        return (a for a in self.reading.actions if a.kind in kinds)

    def created_here(self, table: str | None, column: str | None = None) -> bool:
        """Whether this revision's upgrade made the table (or the column), under this name or
        one it renamed it from: a rename of what the revision itself made moves no live data."""
        tables: set[str | None] = set()
        columns: set[tuple[str | None, str | None]] = set()
        for action in self.upgrade.actions:
            if action.kind is Kind.CREATE_TABLE:
                tables.add(action.table)
            elif action.kind is Kind.RENAME_TABLE and action.table in tables:
                tables.add(action.new_name)
            elif action.kind is Kind.ADD_COLUMN:
                columns.add((action.table, action.column))
            elif (
                action.kind is Kind.ALTER_COLUMN
                and action.new_name
                and ((action.table, action.column) in columns or action.table in tables)
            ):
                columns.add((action.table, action.new_name))
        if table in tables:
            return True
        return column is not None and (table, column) in columns

    def existed(self, table: str | None) -> bool:
        """A table that existed before this revision (so may hold rows and be in use)."""
        if table is None or self.created_here(table):
            return False
        if self.direction == "downgrade":
            return True
        # A table no revision creates was made outside the migrations: assume it exists.
        return self.before.has_table(table) or table not in self.history_tables

    def version(self) -> tuple[int, ...]:
        return self.environment.version(self.backend)

    @property
    def has_lock_timeout(self) -> bool:
        return any(
            a.kind is Kind.SET_OPTION and a.setting in {"lock_timeout", "lock_wait_timeout"}
            for a in self.reading.actions
        )


Check = Callable[[RuleContext], Iterable[Hit]]
SizeScope = Literal["size", "rows"] | None
