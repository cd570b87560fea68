"""Server defaults Alembic cannot compare: computed columns, and identity where none exists.

From Alembic 1.18, a ``compare_server_default`` callable (ours, in env.py) is handed the
column's reflected default as if it were a DefaultClause, and a computed column's
``Computed`` makes autogenerate raise. And on a backend without identity columns (SQLite,
MariaDB) ``Identity()`` is an autoincrementing key the database cannot reflect, so every
``make`` would write an ``alter_column`` to add it again. A comparator registered ahead of
Alembic's own ends the server-default comparison for both, only in environments that use our
``compare_server_default``.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import comparators
from alembic.operations import ops
from sqlalchemy import Computed, Identity

from fastapi_alembic.autogen.compare import compare_server_default

try:  # Alembic >= 1.18
    from alembic.autogenerate.compare import server_defaults as _server_defaults
    from alembic.util import DispatchPriority, PriorityDispatchResult

    PRIORITY_COMPARATORS = True
except ImportError:  # pragma: no cover - older Alembic compares these before the callable
    PRIORITY_COMPARATORS = False


def _skip_unalterable(
    autogen_context: Any,
    alter_column_op: Any,
    schema: Any,
    table: Any,
    column: Any,
    conn_col: Any,
    metadata_col: Any,
) -> Any:
    if conn_col.server_default is None and metadata_col.server_default is None:
        return PriorityDispatchResult.CONTINUE  # most columns: nothing to compare, cheaply
    defaults = (conn_col.server_default, metadata_col.server_default)
    ours = autogen_context.opts.get("compare_server_default") is compare_server_default
    if not ours:
        return PriorityDispatchResult.CONTINUE
    if any(isinstance(default, Computed) for default in defaults):
        return PriorityDispatchResult.STOP
    identity_less = not getattr(autogen_context.dialect, "supports_identity_columns", True)
    if identity_less and isinstance(metadata_col.server_default, Identity):
        return PriorityDispatchResult.STOP
    if any(isinstance(default, Identity) for default in defaults):
        # Alembic's own identity comparison, before the callable that cannot take one.
        compare_identity = getattr(_server_defaults, "_compare_identity_default", None)
        if compare_identity is not None:
            compare_identity(
                autogen_context, alter_column_op, schema, table, column, conn_col, metadata_col
            )
        return PriorityDispatchResult.STOP
    return PriorityDispatchResult.CONTINUE


if PRIORITY_COMPARATORS:
    comparators.dispatch_for("column", subgroup="server_default", priority=DispatchPriority.FIRST)(
        _skip_unalterable
    )


def drop_identity_noise(container: Any, dialect: Any) -> None:
    """Alembic before 1.18 compares identity before any hook can: on a backend without identity
    columns, leave out the ``alter_column(server_default=Identity(...))`` it writes every time."""
    if getattr(dialect, "supports_identity_columns", True):
        return
    for table_ops in list(container.ops):
        inner = getattr(table_ops, "ops", None)
        if inner is None:
            continue
        for op in list(inner):
            if isinstance(op, ops.AlterColumnOp) and (
                isinstance(op.modify_server_default, Identity)
                or (
                    isinstance(op.existing_server_default, Identity)
                    and op.modify_server_default is not False
                    and op.modify_server_default is None
                )
            ):
                op.modify_server_default = False
                untouched = (
                    op.modify_type is None
                    and op.modify_nullable is None
                    and op.modify_name is None
                    and op.modify_comment is False
                )
                if untouched:
                    inner.remove(op)
        if not inner:
            container.ops.remove(table_ops)
