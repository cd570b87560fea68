"""What the linter reads and reports: actions (one schema or data step each) and findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Direction = Literal["upgrade", "downgrade"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


class Kind(StrEnum):
    """What one action does."""

    CREATE_TABLE = "create_table"
    DROP_TABLE = "drop_table"
    RENAME_TABLE = "rename_table"
    ADD_COLUMN = "add_column"
    DROP_COLUMN = "drop_column"
    ALTER_COLUMN = "alter_column"
    CREATE_INDEX = "create_index"
    DROP_INDEX = "drop_index"
    ADD_CONSTRAINT = "add_constraint"
    DROP_CONSTRAINT = "drop_constraint"
    VALIDATE_CONSTRAINT = "validate_constraint"
    UPDATE = "update"
    DELETE = "delete"
    INSERT = "insert"
    SET_OPTION = "set_option"
    ENUM_ADD_VALUE = "enum_add_value"
    UNPARSED_SQL = "unparsed_sql"
    OTHER = "other"


DDL_KINDS = frozenset(
    {
        Kind.CREATE_TABLE,
        Kind.DROP_TABLE,
        Kind.RENAME_TABLE,
        Kind.ADD_COLUMN,
        Kind.DROP_COLUMN,
        Kind.ALTER_COLUMN,
        Kind.CREATE_INDEX,
        Kind.DROP_INDEX,
        Kind.ADD_CONSTRAINT,
        Kind.DROP_CONSTRAINT,
        Kind.VALIDATE_CONSTRAINT,
        Kind.ENUM_ADD_VALUE,
    }
)
DATA_KINDS = frozenset({Kind.UPDATE, Kind.DELETE, Kind.INSERT})


@dataclass(frozen=True)
class ColumnFacts:
    """A column as a revision defines it."""

    name: str
    type: Any = None  # a SQLAlchemy TypeEngine, or None when unknown
    nullable: bool = True
    server_default: str | None = None
    autoincrement: bool = False  # serial, identity or AUTO_INCREMENT
    primary_key: bool = False


@dataclass
class Action:
    """One step of a revision, from an Alembic operation or a parsed SQL statement."""

    kind: Kind
    table: str | None = None
    column: str | None = None
    schema: str | None = None  # the table's schema (a database on MySQL), when named
    line: int | None = None
    source: Literal["op", "sql"] = "op"
    batch: bool = False  # inside batch_alter_table
    autocommit: bool = False  # inside autocommit_block()
    concurrently: bool = False
    unique: bool = False
    not_valid: bool = False
    constraint: str | None = None  # foreign_key, check, unique, primary_key
    name: str | None = None  # index or constraint name
    columns: tuple[ColumnFacts, ...] = ()
    column_names: tuple[str, ...] = ()
    new_type: Any = None
    old_type: Any = None
    nullable: bool | None = None  # alter: the nullability asked for
    new_name: str | None = None  # rename: the new table or column name
    server_default_changed: bool = False
    whole_table: bool = False  # update/delete without WHERE
    setting: str | None = None  # SET name
    sql: str | None = None
    error: str | None = None
    enum_position: str | None = None  # BEFORE/AFTER for ALTER TYPE ADD VALUE
    referent: str | None = None  # foreign key: the table it points at
    referent_columns: tuple[str, ...] = ()  # foreign key: the columns it points at
    #: foreign key: ondelete, onupdate, deferrable, initially, match, as given
    referent_options: tuple[tuple[str, str], ...] = ()
    condition: str | None = None  # check constraint: its condition, as SQL
    assignments: tuple[tuple[str, str], ...] = ()  # UPDATE: (column, value as SQL)
    using: str | None = None  # alter: PostgreSQL's USING expression for the new type

    @property
    def is_ddl(self) -> bool:
        return self.kind in DDL_KINDS

    @property
    def is_data(self) -> bool:
        return self.kind in DATA_KINDS

    @property
    def target(self) -> str:
        """table.column, or table, for messages."""
        if self.table and self.column:
            return f"{self.table}.{self.column}"
        return self.table or self.name or "?"


@dataclass
class Reading:
    """What one direction of one revision does on one backend."""

    actions: list[Action] = field(default_factory=list)
    defined: bool = True  # the function exists
    raised: BaseException | None = None
    raised_line: int | None = None
    #: What was raised is the reader's own limit (a stand-in lacking something), not the
    #: revision's: it was not read to the end, and that says nothing about the revision.
    reader_limit: bool = False


@dataclass(frozen=True)
class Finding:
    """One thing a rule found in one revision."""

    rule: str
    severity: Severity
    revision: str
    path: str
    message: str
    line: int | None = None
    direction: Direction = "upgrade"
    backends: tuple[str, ...] = ()
    table: str | None = None
    column: str | None = None
    rows: int | None = None
    safe: str = ""
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "revision": self.revision,
            "path": self.path,
            "line": self.line,
            "direction": self.direction,
            "message": self.message,
            "backends": list(self.backends),
            "table": self.table,
            "column": self.column,
            "rows": self.rows,
            "why": self.why,
            "safe": self.safe,
        }
