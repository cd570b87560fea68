"""Foreign keys without a name.

A foreign key added to an existing table with no name in the models is written by plain
autogenerate as ``create_foreign_key(None, ...)``: MySQL refuses it, SQLite's batch mode cannot
make it, and on PostgreSQL the downgrade's ``drop_constraint(None, ...)`` fails. Here a new
foreign key gets a conventional name. SQLite also reflects foreign keys without names, so a
batch that drops one is given a naming convention that names the reflected constraint the same
way.
"""

from __future__ import annotations

import hashlib
from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.render import render_op
from alembic.operations import ops

# Column 0 is enough for the name: two foreign keys from one column to one table are one.
FOREIGN_KEY_CONVENTION = "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"


def foreign_key_name(table: str, columns: list[str], referent: str) -> str:
    name = f"fk_{table}_{columns[0]}_{referent}"
    if len(name) > 60:  # PostgreSQL keeps 63 characters, MySQL 64
        name = f"{name[:51]}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"
    return name


class NamingBatchOps(ops.ModifyTableOps):
    """A batch whose unnamed reflected foreign keys are named by ``FOREIGN_KEY_CONVENTION``."""

    def reverse(self) -> NamingBatchOps:
        reversed_ops = super().reverse()
        return NamingBatchOps(self.table_name, reversed_ops.ops, schema=self.schema)


@renderers.dispatch_for(NamingBatchOps)
def _render_naming_batch(autogen_context: Any, op: NamingBatchOps) -> list[str]:
    lines = [
        f"with op.batch_alter_table({op.table_name!r}, schema={op.schema!r}, "
        f'naming_convention={{"fk": {FOREIGN_KEY_CONVENTION!r}}}) as batch_op:'
    ]
    with autogen_context._within_batch():
        for table_op in op.ops:
            lines.extend(render_op(autogen_context, table_op))
    lines.append("")
    return lines


def name_foreign_keys(upgrade_ops: ops.OpContainer) -> None:
    """Give every unnamed foreign key in these operations the conventional name."""
    for at, operation in enumerate(upgrade_ops.ops):
        if not isinstance(operation, ops.ModifyTableOps):
            continue
        unnamed = False
        for table_op in operation.ops:
            if isinstance(table_op, ops.CreateForeignKeyOp) and table_op.constraint_name is None:
                table_op.constraint_name = foreign_key_name(
                    table_op.source_table, table_op.local_cols, table_op.referent_table
                )
            if (
                isinstance(table_op, ops.DropConstraintOp)
                and table_op.constraint_type == "foreignkey"
                and table_op.constraint_name is None
            ):
                reverse = table_op._reverse
                if not isinstance(reverse, ops.CreateForeignKeyOp):
                    continue
                table_op.constraint_name = foreign_key_name(
                    operation.table_name, reverse.local_cols, reverse.referent_table
                )
                unnamed = True
        if unnamed and not isinstance(operation, NamingBatchOps):
            upgrade_ops.ops[at] = NamingBatchOps(
                operation.table_name, operation.ops, schema=operation.schema
            )


def drop_implicit_indexes(downgrade_ops: ops.OpContainer, indexed: set[tuple[str, str]]) -> None:
    """After a downgrade drops a foreign key the upgrade added, drop the index the backend
    made for it (MySQL), unless the column was indexed before. ``indexed`` holds the
    (table, first column) pairs the database has an index for."""
    for table_ops in downgrade_ops.ops:
        if not isinstance(table_ops, ops.ModifyTableOps):
            continue
        for drop in list(table_ops.ops):
            if (
                isinstance(drop, ops.DropConstraintOp)
                and drop.constraint_type == "foreignkey"
                and isinstance(drop.constraint_name, str)
                and isinstance(drop._reverse, ops.CreateForeignKeyOp)
                and (table_ops.table_name, drop._reverse.local_cols[0]) not in indexed
            ):
                at = table_ops.ops.index(drop) + 1
                table_ops.ops.insert(
                    at,
                    ops.DropIndexOp(
                        drop.constraint_name, table_ops.table_name, schema=table_ops.schema
                    ),
                )
