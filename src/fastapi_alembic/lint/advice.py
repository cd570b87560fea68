"""The safe way, written for one finding: its real table, column, type, index or constraint.

A rule's ``advice`` receives a Subject (what one finding is about, filled in by the engine from
the action and the schema the history made so far) and returns Alembic code to paste into the
revision, valid for the finding's backend. docs/lint.md shows each rule's advice for its
``example`` subject.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from fastapi_alembic.lint.advice_layout import WIDTH, Call, call, kw, py, py_list
from fastapi_alembic.lint.model import Action, ColumnFacts, Kind
from fastapi_alembic.lint.types import TypeFacts, facts


@dataclass(frozen=True)
class Subject:
    """What one finding is about, as far as lint knows it."""

    backend: str = "postgresql"
    revision: str = "3f2a9c1e7b55"
    direction: str = "upgrade"
    table: str = "users"
    column: str | None = None
    name: str | None = None  # the index, constraint, enum type or module named
    new_name: str | None = None  # a rename's new name
    columns: tuple[str, ...] = ()  # an index's or constraint's columns
    kind: Kind | None = None  # what the step does
    old_type: TypeFacts | None = None
    new_type: TypeFacts | None = None
    existing: ColumnFacts | None = None  # the column before the step
    added: ColumnFacts | None = None  # the column an add_column adds
    unique: bool = False
    nullable: bool | None = None  # the nullability an alter asks for
    constraint: str | None = None  # foreign_key, check, unique, primary_key
    referent: str | None = None
    referent_columns: tuple[str, ...] = ()
    referent_options: tuple[tuple[str, str], ...] = ()
    condition: str | None = None
    assignments: tuple[tuple[str, str], ...] = ()
    sql: str | None = None
    key: tuple[str, ...] = ()  # the table's primary key, when lint knows it
    table_columns: tuple[ColumnFacts, ...] = ()  # the table's columns before the step
    upgrade: tuple[Action, ...] = ()  # every step of the revision's upgrade()
    rules: tuple[str, ...] = ()  # the rules a silence names
    error: str | None = None  # what upgrade() or downgrade() raised
    line: int | None = None

    @property
    def target(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table

    @property
    def type_now(self) -> TypeFacts | None:
        """The column's type before the step."""
        return self.old_type or (self.existing.type if self.existing else None)


Advice = Callable[[Subject], str]


# -- Python --------------------------------------------------------------------------------


def py_type(type_: TypeFacts | None) -> str:
    """SQLAlchemy code for a column type, e.g. ``sa.String(length=50)``."""
    if type_ is None:
        return "sa.Text()"
    source = type_.source
    if type_.family != "enum" and source is not None and hasattr(sa, type(source).__name__):
        written = f"sa.{source!r}"
        try:
            eval(written, {"sa": sa})
        except Exception:  # a repr that does not rebuild the type: write it from its facts
            pass
        else:
            return written
    return _py_type_from_facts(type_)


def type_argument(type_: TypeFacts | None) -> str | Call:
    """A column type as a call argument: an enum's values may need lines of their own."""
    if type_ is not None and type_.family == "enum":
        values = tuple(py(v) for v in type_.enum_values or ())
        named = (f"name={py(type_.name)}",) if type_.name else ()
        return Call("sa.Enum", (*values, *named))
    return py_type(type_)


def _py_type_from_facts(type_: TypeFacts) -> str:
    family = type_.family
    if family == "string":
        return f"sa.String(length={type_.length})" if type_.length else "sa.String()"
    if family == "integer":
        return {16: "sa.SmallInteger()", 64: "sa.BigInteger()"}.get(
            type_.length or 32, "sa.Integer()"
        )
    if family == "numeric":
        arguments = [f"precision={type_.precision}"] if type_.precision else []
        arguments += [f"scale={type_.scale}"] if type_.scale is not None else []
        return f"sa.Numeric({', '.join(arguments)})"
    if family == "enum":
        values = ", ".join(py(v) for v in type_.enum_values or ())
        return f"sa.Enum({values}, name={py(type_.name)})" if type_.name else f"sa.Enum({values})"
    if family == "datetime":
        zoned = "ZONE" in type_.text.upper() or "TZ" in type_.text.upper()
        return "sa.DateTime(timezone=True)" if zoned else "sa.DateTime()"
    simple = {
        "text": "sa.Text()",
        "float": "sa.Float()",
        "boolean": "sa.Boolean()",
        "date": "sa.Date()",
        "time": "sa.Time()",
        "binary": "sa.LargeBinary()",
        "json": "sa.JSON()",
        "uuid": "sa.Uuid()",
        "serial": "sa.Integer()",
        "bigserial": "sa.BigInteger()",
    }
    return simple.get(family, "sa.Text()")


def sa_type(type_: TypeFacts) -> Any:
    """The SQLAlchemy type object for ``type_``."""
    if type_.source is not None:
        return type_.source
    return eval(_py_type_from_facts(type_), {"sa": sa})


def with_length(type_: TypeFacts | None, length: int) -> TypeFacts | None:
    """``type_`` with another length, for a string type."""
    if type_ is None or type_.family != "string":
        return type_
    return facts(sa.String(length=length))


# -- SQL -----------------------------------------------------------------------------------


@functools.cache
def dialect(backend: str) -> Dialect:
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    made = {"postgresql": postgresql, "mysql": mysql, "sqlite": sqlite}[backend].dialect()
    return made  # type: ignore[no-any-return]


def ident(name: str, backend: str) -> str:
    """A table or column name in SQL, quoted only where the backend needs it."""
    return str(dialect(backend).identifier_preparer.quote(name))


def sql_type(type_: TypeFacts | None, backend: str) -> str:
    """The column type as the backend writes it in DDL."""
    if type_ is None:
        return "TEXT"
    try:
        return str(sa_type(type_).compile(dialect=dialect(backend)))
    except Exception:  # a type of another backend
        return type_.text or "TEXT"


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def char_length(column: str, backend: str) -> str:
    """The length in characters (MySQL's LENGTH counts bytes)."""
    return f"CHAR_LENGTH({column})" if backend == "mysql" else f"length({column})"


def shortened(column: str, length: int, backend: str) -> str:
    return f"substr({column}, 1, {length})" if backend == "sqlite" else f"left({column}, {length})"


def row_key(subject: Subject) -> str:
    """The columns that find a row again: the primary key, else the backend's row id."""
    if len(subject.key) == 1:
        return ident(subject.key[0], subject.backend)
    return {"postgresql": "ctid", "sqlite": "rowid"}.get(subject.backend, "id")


# -- names ---------------------------------------------------------------------------------


def index_name(subject: Subject, prefix: str = "ix") -> str:
    """The finding's index name, or the one Alembic's naming convention would give it."""
    if subject.name:
        return subject.name
    return "_".join([prefix, subject.table, *(subject.columns or ("col",))])[:63]


def constraint_name(subject: Subject) -> str:
    if subject.name:
        return subject.name
    if subject.constraint == "foreign_key":
        parts = ["fk", subject.table, *subject.columns, subject.referent or "ref"]
    elif subject.constraint == "check":
        parts = ["ck", subject.table, *(subject.columns or ("check",))]
    elif subject.constraint == "primary_key":
        parts = [subject.table, "pkey"]
    else:
        parts = ["uq", subject.table, *subject.columns]
    return "_".join(parts)[:63]


def first_table(subject: Subject) -> str:
    """The table the advice speaks of: the finding's, else the first the revision touches."""
    if subject.table and subject.table != "?":
        return subject.table
    for action in subject.upgrade:
        if action.table:
            return action.table
    return "?"


def describe(actions: tuple[Action, ...]) -> str:
    """What an upgrade() did, in a few words: for a downgrade's message."""
    words = {
        Kind.CREATE_TABLE: "created table {t}",
        Kind.DROP_TABLE: "dropped table {t}",
        Kind.RENAME_TABLE: "renamed table {t}",
        Kind.ADD_COLUMN: "added {t}.{c}",
        Kind.DROP_COLUMN: "dropped {t}.{c}",
        Kind.ALTER_COLUMN: "altered {t}.{c}",
        Kind.UPDATE: "updated rows of {t}",
        Kind.DELETE: "deleted rows of {t}",
        Kind.INSERT: "inserted rows into {t}",
    }
    said: list[str] = []
    for action in actions:
        template = words.get(action.kind)
        if template and action.table:
            text = template.format(t=action.table, c=action.column)
            if text not in said:
                said.append(text)
    if not said:
        return "changed the schema"
    return ", ".join(said[:3]) + (" and more" if len(said) > 3 else "")


def reverse_of(action: Action, indent: int = 0) -> str | None:
    """The Alembic call that undoes one step, when lint can write it ("" for none needed)."""
    table = py(action.table or "")
    if action.kind is Kind.CREATE_TABLE:
        return call("op.drop_table", table, indent=indent)
    if action.kind is Kind.ADD_COLUMN and action.column:
        return call("op.drop_column", table, py(action.column), indent=indent)
    if action.kind is Kind.CREATE_INDEX and action.name:
        where = (f"table_name={table}",) if action.table else ()
        return call("op.drop_index", py(action.name), *where, indent=indent)
    if action.kind is Kind.RENAME_TABLE and action.new_name:
        return call("op.rename_table", py(action.new_name), table, indent=indent)
    if action.kind is Kind.ALTER_COLUMN and action.new_name and action.column:
        rename_back = f"new_column_name={py(action.column)}"
        return call("op.alter_column", table, py(action.new_name), rename_back, indent=indent)
    types = {"foreign_key": "foreignkey", "unique": "unique", "check": "check"}
    if action.kind is Kind.ADD_CONSTRAINT and action.name and action.constraint in types:
        kind = f"type_={py(types[action.constraint])}"
        return call("op.drop_constraint", py(action.name), table, kind, indent=indent)
    if action.kind is Kind.SET_OPTION:
        return ""  # nothing to undo
    return None


def guard(subject: Subject, condition: str, what: str) -> str:
    """Python that counts the rows matching ``condition`` and stops the migration if any."""
    table = ident(subject.table, subject.backend)
    query = f"SELECT count(*) FROM {table} WHERE {condition}"
    message = "f" + py("{bad} row(s) of " + subject.table + " " + what)
    return "\n".join(
        [
            call("sa.text", py(query), prefix="query = "),
            "bad = op.get_bind().execute(query).scalar()",
            "if bad:",
            call("RuntimeError", message, prefix="raise ", indent=4),
        ]
    )


def alter_column(subject: Subject, *arguments: str | Call, column: str | None = None) -> str:
    """``op.alter_column(...)`` for the subject's column; a batch on SQLite, whose ALTER TABLE
    cannot change a column."""
    name = py(column or subject.column or "?")
    if subject.backend == "sqlite":
        return f"with op.batch_alter_table({py(subject.table)}) as batch_op:\n" + call(
            "batch_op.alter_column", name, *arguments, indent=4
        )
    return call("op.alter_column", py(subject.table), name, *arguments)


def create_index_concurrently(subject: Subject) -> str:
    """The subject's index made with CONCURRENTLY, in an autocommit block (PostgreSQL)."""
    block = "with op.get_context().autocommit_block():\n"
    if not subject.columns and subject.sql:
        return block + execute(_concurrently(subject.sql), indent=4)
    unique = ("unique=True",) if subject.unique else ()
    return block + call(
        "op.create_index",
        py(index_name(subject)),
        py(subject.table),
        py_list(subject.columns or ("?",)),
        *unique,
        "postgresql_concurrently=True",
        indent=4,
    )


def drop_index_concurrently(subject: Subject) -> str:
    where = (f"table_name={py(subject.table)}",) if subject.table not in {"", "?"} else ()
    return "with op.get_context().autocommit_block():\n" + call(
        "op.drop_index",
        py(index_name(subject)),
        *where,
        "postgresql_concurrently=True",
        indent=4,
    )


def execute(sql: str, indent: int = 0) -> str:
    """``op.execute("...")``, laid out as Ruff would."""
    return call("op.execute", py(sql), indent=indent)


def _concurrently(sql: str) -> str:
    """A CREATE INDEX statement with CONCURRENTLY, as PostgreSQL writes it."""
    import sqlglot

    try:
        statement = sqlglot.parse_one(sql, read="postgres")
    except sqlglot.errors.SqlglotError:
        return sql
    statement.set("concurrently", True)
    return statement.sql(dialect="postgres")


def foreign_key_call(subject: Subject, name: str, *extra: str) -> str:
    """``op.create_foreign_key(...)`` for the subject's key, its ON DELETE/UPDATE kept."""
    options = [
        f"{key}={value}" if key == "deferrable" else f"{key}={py(value)}"
        for key, value in subject.referent_options
    ]
    return call(
        "op.create_foreign_key",
        py(name),
        py(subject.table),
        py(subject.referent or "?"),
        py_list(subject.columns or ("?",)),
        py_list(subject.referent_columns or ("id",)),
        *options,
        *extra,
    )


def add_column(table: str, column: str, type_: TypeFacts | None, *more: str | Call) -> str:
    """``op.add_column(table, sa.Column(column, type, ...))``, laid out as Ruff would."""
    return call(
        "op.add_column", py(table), Call("sa.Column", (py(column), type_argument(type_), *more))
    )


__all__ = [
    "WIDTH",
    "Advice",
    "Call",
    "Subject",
    "call",
    "kw",
    "py",
    "py_list",
]
