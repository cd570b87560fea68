"""Raw SQL, as op.execute() and connection.execute() run it, read with a real SQL parser.

sqlglot parses PostgreSQL, MySQL and SQLite in pure Python. A statement it cannot parse
becomes an UNPARSED_SQL action, which a rule reports: it is never a silent pass.
"""

from __future__ import annotations

import copy
import functools
import logging
from typing import cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from fastapi_alembic.lint.model import Action, ColumnFacts, Kind
from fastapi_alembic.lint.types import from_sql

_SQLGLOT_DIALECT = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}
# What a statement can be; anything else (``SELEC x`` reads as an alias) was not understood.
_STATEMENTS = (
    exp.Query, exp.DDL, exp.DML, exp.Command, exp.Set, exp.Alter, exp.Drop, exp.Comment,
    exp.Grant, exp.Revoke, exp.Transaction, exp.Commit, exp.Rollback, exp.Pragma,
    exp.TruncateTable, exp.Use, exp.Merge, exp.Analyze, exp.Copy, exp.Execute,
)  # fmt: skip
_VOLATILE = ("random(", "gen_random_uuid(", "uuid_generate_v4(", "clock_timestamp(", "nextval(")

# sqlglot logs a warning whenever it falls back to a generic command; we report that ourselves.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


def read_sql(sql: str, backend: str) -> list[Action]:
    """The actions in one or more SQL statements (fresh copies: the caller fills in where)."""
    return [copy.copy(action) for action in _parsed(sql, backend)]


@functools.lru_cache(maxsize=4096)
def _parsed(sql: str, backend: str) -> tuple[Action, ...]:
    # The same statement (SET lock_timeout, say) recurs across a history: parse it once.
    return tuple(_parse(sql, backend))


def _parse(sql: str, backend: str) -> list[Action]:
    try:
        expressions = sqlglot.parse(sql, read=_SQLGLOT_DIALECT.get(backend))
    except SqlglotError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return [Action(Kind.UNPARSED_SQL, sql=sql.strip(), error=first, source="sql")]
    actions: list[Action] = []
    for expression in expressions:
        if expression is None:
            continue
        if not isinstance(expression, _STATEMENTS):
            text = expression.sql()
            return [
                Action(
                    Kind.UNPARSED_SQL,
                    sql=sql.strip(),
                    error=f"{text!r} is not a SQL statement",
                    source="sql",
                )
            ]
        for action in _actions(cast(exp.Expression, expression)):
            action.source = "sql"
            action.sql = action.sql or sql.strip()
            actions.append(action)
    return actions


def _table(node: exp.Expression | None) -> str | None:
    if isinstance(node, exp.Table):
        return node.name
    table = node.find(exp.Table) if node is not None else None
    return table.name if table is not None else None


def _schema(node: exp.Expression | None) -> str | None:
    """The schema (MySQL: the database) a table reference names, if any."""
    table = node if isinstance(node, exp.Table) else node.find(exp.Table) if node else None
    return (table.db or None) if table is not None else None


def _actions(expression: exp.Expression) -> list[Action]:
    if isinstance(expression, exp.Create):
        return _create(expression)
    if isinstance(expression, exp.Drop):
        kind = str(expression.args.get("kind") or "").upper()
        tables = expression.args.get("tables") or []
        names = [t.name for t in tables]
        if kind == "TABLE":
            return [Action(Kind.DROP_TABLE, table=t.name, schema=_schema(t)) for t in tables]
        if kind == "INDEX":
            concurrently = bool(expression.args.get("concurrently"))
            return [Action(Kind.DROP_INDEX, name=n, concurrently=concurrently) for n in names]
        return [Action(Kind.OTHER)]
    if isinstance(expression, exp.Alter):
        return _alter(expression)
    if isinstance(expression, exp.Update | exp.Delete):
        kind = Kind.UPDATE if isinstance(expression, exp.Update) else Kind.DELETE
        table = _table(expression.this)
        assignments = tuple(
            (item.this.name, item.expression.sql())
            for item in expression.expressions
            if isinstance(item, exp.EQ) and isinstance(item.this, exp.Column)
        )
        whole = _always(expression.args.get("where"))
        return [
            Action(
                kind,
                table=table,
                schema=_schema(expression.this),
                whole_table=whole,
                assignments=assignments,
            )
        ]
    if isinstance(expression, exp.Insert):
        return [Action(Kind.INSERT, table=_table(expression.this))]
    if isinstance(expression, exp.TruncateTable):
        return [
            Action(Kind.DELETE, table=_table(e), schema=_schema(e), whole_table=True)
            for e in expression.expressions
        ]
    if isinstance(expression, exp.Set):
        settings = [item.this.this.name for item in expression.expressions if _is_assignment(item)]
        return [Action(Kind.SET_OPTION, setting=name.lower()) for name in settings] or [
            Action(Kind.OTHER)
        ]
    if isinstance(expression, exp.Command):
        return _command(expression)
    return [Action(Kind.OTHER)]


def _always(where: exp.Expression | None) -> bool:
    """Whether a WHERE clause picks every row: none at all, WHERE TRUE, WHERE 1 = 1."""
    if where is None:
        return True
    condition = where.this if isinstance(where, exp.Where) else where
    while isinstance(condition, exp.Paren):
        condition = condition.this
    if isinstance(condition, exp.Boolean):
        return bool(condition.this)
    if isinstance(condition, exp.EQ) and isinstance(condition.this, exp.Literal):
        return bool(condition.this == condition.expression)
    return False


def _is_assignment(item: exp.Expression) -> bool:
    return (
        isinstance(item, exp.SetItem)
        and isinstance(item.this, exp.EQ)
        and isinstance(item.this.this, exp.Column)
    )


def _create(expression: exp.Create) -> list[Action]:
    kind = str(expression.args.get("kind") or "").upper()
    if kind == "INDEX":
        index = expression.this
        return [
            Action(
                Kind.CREATE_INDEX,
                table=_table(index.args.get("table")),
                name=index.name or None,
                unique=bool(expression.args.get("unique")),
                concurrently=bool(expression.args.get("concurrently")),
                column_names=tuple(c.name for c in index.find_all(exp.Column)),
            )
        ]
    if kind == "TABLE":
        schema = expression.this
        columns = tuple(
            _column(d) for d in getattr(schema, "expressions", []) if isinstance(d, exp.ColumnDef)
        )
        return [Action(Kind.CREATE_TABLE, table=_table(schema), columns=columns)]
    return [Action(Kind.OTHER)]


def _column(definition: exp.ColumnDef) -> ColumnFacts:
    kind = definition.args.get("kind")
    type_ = from_sql(kind) if isinstance(kind, exp.DataType) else None
    nullable, default, serial, primary = True, None, False, False
    for constraint in definition.args.get("constraints") or []:
        inner = constraint.args.get("kind")
        if isinstance(inner, exp.NotNullColumnConstraint) and not inner.args.get("allow_null"):
            nullable = False
        elif isinstance(inner, exp.DefaultColumnConstraint):
            default = inner.this.sql() if inner.this is not None else "NULL"
        elif isinstance(inner, exp.PrimaryKeyColumnConstraint):
            primary = nullable = False
        elif isinstance(
            inner, exp.AutoIncrementColumnConstraint | exp.GeneratedAsIdentityColumnConstraint
        ):
            serial = True
    if (type_ is not None and type_.family == "serial") or (
        type_ and "SERIAL" in type_.text.upper()
    ):
        serial = True
    return ColumnFacts(definition.name, type_, nullable, default, serial, primary)


def _alter(expression: exp.Alter) -> list[Action]:
    table = _table(expression.this)
    if str(expression.args.get("kind") or "").upper() != "TABLE":
        return [Action(Kind.OTHER, table=table)]
    actions: list[Action] = []
    for change in expression.args.get("actions") or []:
        action = _alter_action(table, change, bool(expression.args.get("not_valid")))
        action.schema = _schema(expression.this)
        actions.append(action)
    return actions or [Action(Kind.OTHER, table=table, schema=_schema(expression.this))]


def _alter_action(table: str | None, change: exp.Expression, not_valid: bool) -> Action:
    if isinstance(change, exp.ColumnDef):
        return Action(Kind.ADD_COLUMN, table=table, column=change.name, columns=(_column(change),))
    if isinstance(change, exp.Drop):
        kind = str(change.args.get("kind") or "COLUMN").upper()
        names = [t.name for t in change.args.get("tables") or []] or [
            change.this.name if change.this else ""
        ]
        if kind == "CONSTRAINT":
            return Action(Kind.DROP_CONSTRAINT, table=table, name=names[0])
        return Action(Kind.DROP_COLUMN, table=table, column=names[0])
    if isinstance(change, exp.AlterColumn):
        column = change.this.name
        dtype = change.args.get("dtype")
        if isinstance(dtype, exp.DataType):
            using = change.args.get("using")
            return Action(
                Kind.ALTER_COLUMN,
                table=table,
                column=column,
                new_type=from_sql(dtype),
                using=using.sql(dialect="postgres") if isinstance(using, exp.Expression) else None,
            )
        if change.args.get("allow_null") is not None:
            return Action(
                Kind.ALTER_COLUMN,
                table=table,
                column=column,
                nullable=bool(change.args["allow_null"]),
            )
        if change.args.get("default") is not None or change.args.get("drop"):
            return Action(
                Kind.ALTER_COLUMN, table=table, column=column, server_default_changed=True
            )
        return Action(Kind.ALTER_COLUMN, table=table, column=column)
    if isinstance(change, exp.ModifyColumn):
        definition = change.this
        facts = _column(definition)
        renamed_from = change.args.get("rename_from")  # MySQL's CHANGE old new TYPE
        old = renamed_from.name if isinstance(renamed_from, exp.Expression) else None
        return Action(
            Kind.ALTER_COLUMN,
            table=table,
            column=old or facts.name,
            new_type=facts.type,
            nullable=facts.nullable if not facts.nullable else None,
            new_name=facts.name if old and old != facts.name else None,
        )
    if isinstance(change, exp.AlterRename):
        return Action(Kind.RENAME_TABLE, table=table, new_name=_table(change.this))
    if isinstance(change, exp.RenameColumn):
        return Action(
            Kind.ALTER_COLUMN, table=table, column=change.this.name, new_name=change.args["to"].name
        )
    if isinstance(change, exp.AddConstraint):
        return _add_constraint(table, change, not_valid)
    return Action(Kind.OTHER, table=table)


def _add_constraint(table: str | None, change: exp.AddConstraint, not_valid: bool) -> Action:
    name = None
    kind = "other"
    action = Action(Kind.ADD_CONSTRAINT, table=table, not_valid=not_valid)
    for node in change.walk():
        if isinstance(node, exp.Constraint) and name is None:
            name = node.name or None
        if isinstance(node, exp.ForeignKey):
            kind = "foreign_key"
            action.column_names = tuple(e.name for e in node.expressions)
            reference = node.args.get("reference")
            target = reference.this if reference is not None else None
            if isinstance(target, exp.Schema):
                action.referent = _table(target.this)
                action.referent_columns = tuple(e.name for e in target.expressions)
        elif isinstance(node, exp.CheckColumnConstraint | exp.Check):
            kind = "check"
            condition = node.this
            action.condition = condition.sql() if isinstance(condition, exp.Expression) else None
        elif isinstance(node, exp.PrimaryKey | exp.PrimaryKeyColumnConstraint):
            kind = "primary_key"
            action.column_names = tuple(e.name for e in node.expressions)
        elif isinstance(node, exp.UniqueColumnConstraint):
            kind = "unique"
            columns = node.this
            if isinstance(columns, exp.Schema):
                action.column_names = tuple(e.name for e in columns.expressions)
        if kind != "other":
            break
    action.name, action.constraint = name, kind
    return action


def _command(expression: exp.Command) -> list[Action]:
    """Statements sqlglot keeps as a generic command: read their tokens, not their text."""
    words = [t.text for t in sqlglot.tokenize(f"{expression.this} {expression.expression or ''}")]
    upper = [w.upper() for w in words]
    if upper[:2] == ["ALTER", "TYPE"] and "ADD" in upper and "VALUE" in upper:
        position = "BEFORE" if "BEFORE" in upper else "AFTER" if "AFTER" in upper else None
        return [Action(Kind.ENUM_ADD_VALUE, name=words[2], enum_position=position)]
    if upper[:2] == ["ALTER", "TABLE"] and "VALIDATE" in upper:
        return [Action(Kind.VALIDATE_CONSTRAINT, table=words[2])]
    return [Action(Kind.OTHER)]


def volatile_default(default: str | None) -> bool:
    """Whether a server default is evaluated per row (so PostgreSQL rewrites the table)."""
    if not default:
        return False
    lowered = default.lower().replace(" ", "")
    return any(name in lowered for name in _VOLATILE)
