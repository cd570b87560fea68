"""A column that moves to a new table: written as a manual step, never as a silent drop.

When a table loses a column and a table created in the same revision gains one of the same name
and a compatible type, with a foreign key back to the first table, the data probably moves with
it. Which rows go where is for a person to say, so the drop is not written: a commented stub
takes its place (in the upgrade and the downgrade), and ``make`` says so in one sentence.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import renderers
from alembic.operations import ops
from sqlalchemy import Column, ForeignKeyConstraint


class ManualStepOp(ops.MigrateOperation):
    """A step left to a person, written as comments."""

    def __init__(self, source: str, column: str, target: str, *, upgrade: bool = True) -> None:
        self.source, self.column, self.target, self.upgrade = source, column, target, upgrade

    def reverse(self) -> ManualStepOp:
        return ManualStepOp(self.source, self.column, self.target, upgrade=not self.upgrade)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("manual_step", self.source, self.column, self.target)

    def operation_info(self) -> tuple[str, bool, str | None]:
        return (
            f"MANUAL STEP: move {self.source}.{self.column} to {self.target}.{self.column}",
            False,
            None,
        )


@renderers.dispatch_for(ManualStepOp)
def _render_manual_step(_context: Any, op: ManualStepOp) -> list[str]:
    if op.upgrade:
        return [
            f"# MANUAL STEP: {op.source}.{op.column} looks moved to {op.target}.{op.column}.",
            f"# Copy the data into {op.target} the way your app needs, for example",
            f"#   op.execute('INSERT INTO {op.target} (...) SELECT ... FROM {op.source}')",
            "# then drop the old column:",
            f"#   op.drop_column({op.source!r}, {op.column!r})",
            "pass",
        ]
    return [
        f"# MANUAL STEP: if the upgrade dropped {op.source}.{op.column}, add it back and copy",
        f"# the data from {op.target} before the table is dropped.",
        "pass",
    ]


def _references(create: ops.CreateTableOp, table: str) -> bool:
    return any(
        isinstance(c, ForeignKeyConstraint) and c.referred_table.name == table
        for c in create.to_table().constraints
    )


def hold_back_moves(upgrade_ops: ops.UpgradeOps) -> list[str]:
    """Replace each drop of a moved column with a manual step; the warning sentences."""
    created = [o for o in upgrade_ops.ops if isinstance(o, ops.CreateTableOp)]
    warnings: list[str] = []
    for table_ops in [o for o in upgrade_ops.ops if isinstance(o, ops.ModifyTableOps)]:
        for drop in [o for o in table_ops.ops if isinstance(o, ops.DropColumnOp)]:
            old = drop.to_column()
            for create in created:
                new = next(
                    (c for c in create.columns if isinstance(c, Column) and c.name == old.name),
                    None,
                )
                if (
                    new is None
                    or new.type._type_affinity is not old.type._type_affinity
                    or not _references(create, table_ops.table_name)
                ):
                    continue
                # At the top level, after the new table: a batch block cannot hold only comments.
                table_ops.ops.remove(drop)
                if not table_ops.ops:
                    upgrade_ops.ops.remove(table_ops)
                at = upgrade_ops.ops.index(create) + 1
                upgrade_ops.ops.insert(
                    at, ManualStepOp(table_ops.table_name, old.name, create.table_name)
                )
                warnings.append(
                    f"{table_ops.table_name}.{old.name} looks moved to the new table "
                    f"{create.table_name}, which cannot be written safely: the revision keeps "
                    "the old column and marks a MANUAL STEP where you copy the data and drop it."
                )
                break
    return warnings
