"""Renames: a dropped column (or table) and an added one that look like the same thing.

Alembic compares names, so a renamed column arrives as a drop and an add, and ``upgrade`` would
throw the data away. This rewriter runs as a ``process_revision_directives`` hook on Alembic's
operation objects: it pairs such drops and adds, asks (or takes the answer given ahead with
``--rename``), and puts a rename in their place, in the upgrade and in the downgrade alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from alembic.autogenerate import render, renderers
from alembic.operations import ops
from sqlalchemy import Column, Table

from fastapi_alembic.errors import ConfigError

Ask = Callable[[str], bool]


#: The silence ``make`` writes above a rename the user asked for: lint's rename rules are
#: about renames nobody meant, and this one was meant.
ON_REQUEST = "# fastapi-alembic: allow {rule} -- renamed on request"


class RenameColumnOp(ops.AlterColumnOp):
    """``alter_column(..., new_column_name=...)`` whose reverse renames back."""

    #: the user asked for it (--rename, or yes to the question): written with its silence
    requested = False

    def reverse(self) -> RenameColumnOp:
        assert self.modify_name is not None
        kw = {**self.kw, "modify_name": self.column_name}
        for what in ("type", "nullable", "server_default", "comment"):
            existing, modify = getattr(self, f"existing_{what}"), getattr(self, f"modify_{what}")
            unset = None if what in ("type", "nullable") else False
            kw[f"existing_{what}"] = existing if modify is unset else modify
            if modify is not unset:
                kw[f"modify_{what}"] = existing
        return RenameColumnOp(self.table_name, self.modify_name, schema=self.schema, **kw)


class RenameTableOp(ops.RenameTableOp):
    """``rename_table`` whose reverse renames back (Alembic's has no reverse)."""

    requested = False

    def reverse(self) -> RenameTableOp:
        return RenameTableOp(self.new_table_name, self.table_name, schema=self.schema)

    def operation_info(self) -> tuple[str, bool, str | None]:
        return f"rename table {self.table_name} to {self.new_table_name}", False, None


@renderers.dispatch_for(RenameColumnOp)
def _render_rename_column(autogen_context: Any, op: RenameColumnOp) -> list[str]:
    # Written here rather than by Alembic's alter_column renderer, which leaves the new name
    # out before Alembic 1.14 (its autogenerate never renamed a column).
    batch = autogen_context._has_batch
    args = [] if batch else [repr(op.table_name)]
    args.append(repr(op.column_name))
    args.append(f"new_column_name={op.modify_name!r}")
    if op.modify_type is not None:
        args.append(f"type_={render._repr_type(op.modify_type, autogen_context)}")
    if op.modify_nullable is not None:
        args.append(f"nullable={op.modify_nullable!r}")
    if op.existing_type is not None:
        args.append(f"existing_type={render._repr_type(op.existing_type, autogen_context)}")
    if op.existing_nullable is not None:
        args.append(f"existing_nullable={op.existing_nullable!r}")
    existing_default = op.existing_server_default
    if existing_default is not None and existing_default is not False:
        default = render._render_server_default(existing_default, autogen_context)
        args.append(f"existing_server_default={default}")
    if op.existing_comment:
        args.append(f"existing_comment={op.existing_comment!r}")
    if op.schema and not batch:
        args.append(f"schema={op.schema!r}")
    prefix = "batch_op." if batch else "op."
    call = f"{prefix}alter_column(" + ",\n               ".join(args) + ")"
    if op.requested:  # one line each: Alembic's printer indents line by line
        return [ON_REQUEST.format(rule="rename-column"), call]
    return [call]


@renderers.dispatch_for(RenameTableOp)
def _render_rename_table(autogen_context: Any, op: RenameTableOp) -> list[str]:
    # Alembic's autogenerate never makes a rename_table, so it has no renderer for one.
    schema = f", schema={op.schema!r}" if op.schema else ""
    call = f"op.rename_table({op.table_name!r}, {op.new_table_name!r}{schema})"
    if op.requested:
        return [ON_REQUEST.format(rule="rename-table"), call]
    return [call]


@dataclass(frozen=True)
class RenameAnswers:
    """Renames given ahead: ``table.column:table.new_column`` or ``table:new_table``."""

    columns: dict[tuple[str, str], str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, specs: Iterable[str]) -> RenameAnswers:
        columns: dict[tuple[str, str], str] = {}
        tables: dict[str, str] = {}
        for spec in specs:
            old, sep, new = spec.partition(":")
            old_parts, new_parts = old.strip().split("."), new.strip().split(".")
            if not sep or not all(old_parts + new_parts) or len(old_parts) != len(new_parts):
                raise ConfigError(
                    f"--rename {spec!r} is not of the form OLD:NEW (write "
                    "table.old_column:table.new_column for a column, old_table:new_table for a "
                    "table)."
                )
            if len(old_parts) == 1:
                tables[old_parts[0]] = new_parts[0]
            elif len(old_parts) == 2 and old_parts[0] == new_parts[0]:
                columns[(old_parts[0], old_parts[1])] = new_parts[1]
            else:
                raise ConfigError(
                    f"--rename {spec!r} moves a column to another table: a rename keeps the "
                    "table, as in users.phone:users.phone_number."
                )
        return cls(columns, tables)


def _type_key(column: Column[Any]) -> Any:
    return column.type._type_affinity


def _same_columns(old: Table, new: Table) -> bool:
    def shape(table: Table) -> list[tuple[str, Any]]:
        return sorted((c.name, _type_key(c)) for c in table.columns)

    return shape(old) == shape(new)


class RenameResolver:
    """The ``process_revision_directives`` hook that turns drop + add into a rename."""

    def __init__(self, answers: RenameAnswers, ask: Ask | None) -> None:
        self.answers = answers
        self.ask = ask
        self.warnings: list[str] = []
        self._used: set[str] = set()

    def __call__(self, _context: Any, _revision: Any, directives: list[Any]) -> None:
        if not directives:
            return
        script = directives[0]
        changed = False
        for upgrade_ops in script.upgrade_ops_list:
            changed |= self._tables(upgrade_ops)
            for operation in upgrade_ops.ops:
                if isinstance(operation, ops.ModifyTableOps):
                    changed |= self._columns(operation)
        self._check_all_answers_used()
        if changed:
            script.downgrade_ops_list[:] = [u.reverse() for u in script.upgrade_ops_list]
            for container in [*script.upgrade_ops_list, *script.downgrade_ops_list]:
                _order_around_renames(container)

    # -- tables -----------------------------------------------------------------------------

    def _tables(self, upgrade_ops: ops.UpgradeOps) -> bool:
        dropped = [o for o in upgrade_ops.ops if isinstance(o, ops.DropTableOp)]
        created = [o for o in upgrade_ops.ops if isinstance(o, ops.CreateTableOp)]
        changed = False
        for drop in dropped:
            old_table = drop.to_table()
            for create in created:
                if create.schema != drop.schema:
                    continue
                new_table = create.to_table()
                given = self.answers.tables.get(drop.table_name)
                if given is not None and given != create.table_name:
                    continue
                if given is None and not _same_columns(old_table, new_table):
                    continue
                if not self._decide(
                    given is not None,
                    f"{drop.table_name}:{create.table_name}",
                    f"Was {drop.table_name} renamed to {create.table_name}?",
                    f"table {drop.table_name} is dropped and {create.table_name} created with "
                    f"the same columns",
                ):
                    continue
                self._rename_table(upgrade_ops, drop, create)
                created.remove(create)
                changed = True
                break
        return changed

    def _rename_table(
        self, upgrade_ops: ops.UpgradeOps, drop: ops.DropTableOp, create: ops.CreateTableOp
    ) -> None:
        """The rename takes the drop's place, after the old table's indexes are dropped; the
        new table's indexes follow it."""
        operations = upgrade_ops.ops
        new_indexes = [
            o
            for o in operations
            if isinstance(o, ops.ModifyTableOps)
            and o.table_name == create.table_name
            and o.schema == create.schema
        ]
        for moved in [create, *new_indexes]:
            operations.remove(moved)
        at = operations.index(drop)
        rename = RenameTableOp(drop.table_name, create.table_name, schema=drop.schema)
        rename.requested = True
        operations[at : at + 1] = [rename, *new_indexes]
        _keep_foreign_keys(upgrade_ops, drop.table_name, create.table_name)

    # -- columns ----------------------------------------------------------------------------

    def _columns(self, table_ops: ops.ModifyTableOps) -> bool:
        operations = table_ops.ops
        dropped = [o for o in operations if isinstance(o, ops.DropColumnOp)]
        added = [o for o in operations if isinstance(o, ops.AddColumnOp)]
        table = table_ops.table_name
        changed = False
        for drop in dropped:
            old = drop.to_column()
            for add in added:
                new = add.column
                given = self.answers.columns.get((table, drop.column_name))
                if given is not None and given != new.name:
                    continue
                if given is None and _type_key(old) is not _type_key(new):
                    continue
                if not self._decide(
                    given is not None,
                    f"{table}.{drop.column_name}:{table}.{new.name}",
                    f"Was {table}.{drop.column_name} renamed to {table}.{new.name}?",
                    f"column {table}.{drop.column_name} is dropped and {table}.{new.name} added "
                    "with a compatible type",
                ):
                    continue
                at = operations.index(add)
                operations[at] = rename = _rename_column(table_ops, old, new)
                rename.requested = True
                operations.remove(drop)
                added.remove(add)
                changed = True
                break
        return changed

    # -- answers ----------------------------------------------------------------------------

    def _decide(self, given: bool, spec: str, question: str, looks_like: str) -> bool:
        if given:
            self._used.add(spec)
            return True
        if self.ask is not None:
            return self.ask(question)
        self.warnings.append(
            f"The {looks_like}, which looks like a rename; this revision drops the old one and "
            f"its data. If it is a rename, delete the file and run make again with --rename {spec}."
        )
        return False

    def _check_all_answers_used(self) -> None:
        wanted = [f"{t}.{c}:{t}.{n}" for (t, c), n in self.answers.columns.items()]
        wanted += [f"{old}:{new}" for old, new in self.answers.tables.items()]
        for spec in wanted:
            if spec not in self._used:
                raise ConfigError(
                    f"--rename {spec} matches no change in the models: the old name must be gone "
                    "from the models and the new one new to the database."
                )


def _rename_rank(operation: Any) -> int:
    if isinstance(operation, ops.DropIndexOp | ops.DropConstraintOp):
        return 0
    if isinstance(operation, RenameColumnOp):
        return 1
    if isinstance(operation, ops.CreateIndexOp | ops.AddConstraintOp):
        return 3
    return 2


def _order_around_renames(container: ops.OpContainer) -> None:
    """Indexes and constraints on a renamed column are dropped before the rename and made
    after it, in a table operation of their own: a batch (SQLite) finds a column by the name
    it had when the batch began."""
    split: list[Any] = []
    for table_ops in container.ops:
        if isinstance(table_ops, ops.ModifyTableOps) and any(
            isinstance(o, RenameColumnOp) for o in table_ops.ops
        ):
            ranked = sorted(table_ops.ops, key=_rename_rank)
            table_ops.ops = [o for o in ranked if _rename_rank(o) < 3]
            after = [o for o in ranked if _rename_rank(o) == 3]
            split.append(table_ops)
            if after:
                split.append(
                    ops.ModifyTableOps(table_ops.table_name, after, schema=table_ops.schema)
                )
        else:
            split.append(table_ops)
    container.ops = split


def _keep_foreign_keys(upgrade_ops: ops.UpgradeOps, old: str, new: str) -> None:
    """Every backend points foreign keys at a renamed table by itself: the drop and re-create
    of each that autogenerate wrote for the new name is left out."""

    def shape(fk: Any) -> tuple[Any, ...]:
        return (
            tuple(fk.local_cols),
            tuple(fk.remote_cols),
            fk.kw.get("ondelete"),
            fk.kw.get("onupdate"),
        )

    for table_ops in [o for o in upgrade_ops.ops if isinstance(o, ops.ModifyTableOps)]:
        drops = [
            o
            for o in table_ops.ops
            if isinstance(o, ops.DropConstraintOp)
            and isinstance(o._reverse, ops.CreateForeignKeyOp)
            and o._reverse.referent_table == old
        ]
        for drop in drops:
            assert isinstance(drop._reverse, ops.CreateForeignKeyOp)
            for create in table_ops.ops:
                if (
                    isinstance(create, ops.CreateForeignKeyOp)
                    and create.referent_table == new
                    and shape(create) == shape(drop._reverse)
                ):
                    table_ops.ops.remove(create)
                    table_ops.ops.remove(drop)
                    break
        if not table_ops.ops:
            upgrade_ops.ops.remove(table_ops)


def _rename_column(table_ops: ops.ModifyTableOps, old: Column[Any], new: Column[Any]) -> Any:
    """Rename, and change the type, nullability or default where the models changed them too."""
    type_changed = str(old.type) != str(new.type)
    nullable_changed = bool(old.nullable) != bool(new.nullable)
    return RenameColumnOp(
        table_ops.table_name,
        old.name,
        schema=table_ops.schema,
        modify_name=new.name,
        modify_type=new.type if type_changed else None,
        modify_nullable=new.nullable if nullable_changed else None,
        existing_type=old.type,
        existing_nullable=old.nullable,
        existing_server_default=old.server_default,
        existing_comment=old.comment,
    )


def renamed_specs(specs: Sequence[str]) -> RenameAnswers:
    """Parse ``--rename`` values, failing with one sentence on a malformed one."""
    return RenameAnswers.parse(specs)
