"""unbatched-data-change: UPDATE or DELETE of a whole table inside the migration's transaction."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject, call, ident, py, row_key
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule

BATCH = 5000


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.UPDATE, Kind.DELETE):
        if action.whole_table and not action.autocommit and context.existed(action.table):
            verb = "updates" if action.kind is Kind.UPDATE else "deletes"
            yield Hit(
                f"{verb} every row of {action.table} in one statement inside the migration's "
                "transaction: each row stays locked until the whole migration ends",
                action,
                action.table,
            )


def _reads_columns(value: str) -> bool:
    """Whether an assigned value refers to a column or a bound parameter (so "not done yet"
    cannot be told, or the statement cannot be repeated as it is)."""
    import sqlglot
    from sqlglot import exp

    try:
        parsed = sqlglot.parse_one(value)
    except sqlglot.errors.SqlglotError:
        return True
    return any(True for _ in parsed.find_all(exp.Column, exp.Placeholder, exp.Parameter))


def _batch_statement(s: Subject) -> str | None:
    """One batch of the change, run until it changes no row; None when lint cannot write it."""
    table = ident(s.table, s.backend)
    if s.kind is Kind.DELETE:
        head, pending = f"DELETE FROM {table}", ""
    elif s.assignments and not any(_reads_columns(v) for _c, v in s.assignments):
        sets = ", ".join(f"{ident(c, s.backend)} = {v}" for c, v in s.assignments)
        head = f"UPDATE {table} SET {sets}"
        pending = " OR ".join(
            f"{ident(c, s.backend)} IS NULL OR {ident(c, s.backend)} <> {v}"
            for c, v in s.assignments
        )
    else:
        return None
    if s.backend == "mysql":  # MySQL limits an UPDATE/DELETE itself, not a subquery of its table
        where = f" WHERE {pending}" if pending else ""
        return f"{head}{where} LIMIT {BATCH}"
    key = row_key(s)
    where = f" WHERE {pending}" if pending else ""
    return f"{head} WHERE {key} IN (SELECT {key} FROM {table}{where} LIMIT {BATCH})"


def advice(s: Subject) -> str:
    statement = _batch_statement(s)
    if statement is None:
        return f"""\
# Change {s.table} in batches of a few thousand rows, each committed on its own, so
# the app's writes wait for one batch at most: an UPDATE ... WHERE <key> IN (SELECT <key>
# FROM {s.table} WHERE <not yet changed> LIMIT {BATCH}), repeated in an autocommit block
# until it changes no row."""
    return f"""\
# In batches, each committed on its own, until no row is left to change:
{call("sa.text", py(statement), prefix="batch = ")}
connection = op.get_bind()
with op.get_context().autocommit_block():
    while connection.execute(batch).rowcount:
        pass"""


RULE = Rule(
    id="unbatched-data-change",
    category="hygiene",
    severity=Severity.ERROR,
    title="An unbatched whole-table UPDATE or DELETE",
    why="One UPDATE over the whole table locks every row it touches until the migration's "
    "transaction commits, and on a large table it writes a huge transaction; the app's "
    "writes to those rows wait the whole time.",
    advice=advice,
    example=Subject(
        table="users", kind=Kind.UPDATE, assignments=(("plan", "'free'"),), key=("id",)
    ),
    check=check,
    scope="size",
)
