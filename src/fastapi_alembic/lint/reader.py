"""Reading what a revision would do, without a database.

The revision's upgrade()/downgrade() run against Operations whose ``invoke`` records each
operation object instead of running it. ``op.get_bind()`` hands out a connection that records
what it is asked to execute and returns no rows; ``autocommit_block()`` and
``batch_alter_table()`` are followed so rules know where each step runs.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic.operations import BatchOperations, Operations
from alembic.operations import ops as alembic_ops
from alembic.operations.batch import BatchOperationsImpl
from alembic.runtime.migration import MigrationContext

from fastapi_alembic.lint.model import Action, ColumnFacts, Kind, Reading
from fastapi_alembic.lint.sql import read_sql, statement_text
from fastapi_alembic.lint.types import facts

_CONTEXTS: dict[str, MigrationContext] = {}


def migration_context(backend: str) -> MigrationContext:
    """An offline migration context for ``backend`` (made once: it only lends its dialect)."""
    if backend not in _CONTEXTS:
        _CONTEXTS[backend] = MigrationContext.configure(
            dialect_name=backend,
            # named parameters (:name) compile to SQL every backend's parser reads
            dialect_opts={"paramstyle": "named"},
            opts={"as_sql": True, "output_buffer": io.StringIO()},
        )
    return _CONTEXTS[backend]


class _Recorder:
    """Collects actions for one run of one function, with where each was called from."""

    def __init__(self, backend: str, path: str) -> None:
        self.backend = backend
        self.path = path
        self.actions: list[Action] = []
        self.autocommit = False

    def line(self) -> int | None:
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename == self.path:
                return frame.f_lineno
            frame = frame.f_back  # type: ignore[assignment]
        return None

    def add(self, actions: list[Action], batch: bool = False) -> None:
        line = self.line()
        for action in actions:
            action.line = line
            action.batch = action.batch or batch
            action.autocommit = self.autocommit
            self.actions.append(action)

    def execute(self, statement: Any) -> None:
        dialect = migration_context(self.backend).dialect
        try:
            sql = statement_text(statement, dialect)
        except Exception as error:  # a construct this dialect cannot compile
            self.add([Action(Kind.UNPARSED_SQL, sql=repr(statement), error=str(error))])
            return
        self.add(read_sql(sql, self.backend))


class _EmptyResult:
    """What the recording connection returns: no rows, whatever was asked."""

    rowcount = 0

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def fetchall(self) -> list[Any]:
        return []

    def fetchone(self) -> None:
        return None

    def first(self) -> None:
        return None

    def scalar(self) -> None:
        return None

    def all(self) -> list[Any]:
        return []

    def scalars(self) -> _EmptyResult:
        return self

    def mappings(self) -> _EmptyResult:
        return self

    def one_or_none(self) -> None:
        return None


class _RecordingConnection:
    """Stands in for ``op.get_bind()``: records statements, returns empty results."""

    def __init__(self, recorder: _Recorder) -> None:
        self._recorder = recorder
        self.dialect = migration_context(recorder.backend).dialect
        self.engine = self

    def execute(self, statement: Any, *_args: Any, **_kwargs: Any) -> _EmptyResult:
        self._recorder.execute(statement)
        return _EmptyResult()

    exec_driver_sql = execute

    def scalar(self, statement: Any, *_args: Any, **_kwargs: Any) -> None:
        self._recorder.execute(statement)

    def begin_nested(self) -> _NoTransaction:
        return _NoTransaction()

    begin = begin_nested

    def commit(self) -> None:
        pass


class _NoTransaction:
    def __enter__(self) -> _NoTransaction:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def commit(self) -> None:
        pass


class _RecordingContext:
    """``op.get_context()``: the offline context, with autocommit_block() recorded."""

    def __init__(self, recorder: _Recorder) -> None:
        self._recorder = recorder
        self._context = migration_context(recorder.backend)
        self.bind = self.connection = _RecordingConnection(recorder)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        before, self._recorder.autocommit = self._recorder.autocommit, True
        try:
            yield
        finally:
            self._recorder.autocommit = before


class RecordingOperations(Operations):
    """Operations that record each operation as actions instead of running it."""

    def __init__(self, recorder: _Recorder) -> None:
        super().__init__(migration_context(recorder.backend))
        self._recorder = recorder
        self._context_proxy = _RecordingContext(recorder)

    def invoke(self, operation: Any) -> Any:
        self._recorder.add(to_actions(operation, self._recorder))
        if isinstance(operation, alembic_ops.CreateTableOp):
            return operation.to_table(self.migration_context)
        return None

    def get_context(self) -> Any:
        return self._context_proxy

    def get_bind(self) -> Any:
        return self._context_proxy.bind

    @contextmanager
    def batch_alter_table(
        self,
        table_name: str,
        schema: str | None = None,
        recreate: Any = "auto",
        *args: Any,
        **kw: Any,
    ) -> Iterator[BatchOperations]:
        impl = BatchOperationsImpl(  # type: ignore[no-untyped-call]
            self, table_name, schema, recreate, None, (), {}, (), {}, None, None
        )
        batch = _RecordingBatch(self.migration_context, impl=impl)
        batch._recorder = self._recorder
        batch._context_proxy = self._context_proxy
        yield batch


class _RecordingBatch(BatchOperations):
    _recorder: _Recorder
    _context_proxy: _RecordingContext

    def invoke(self, operation: Any) -> Any:
        self._recorder.add(to_actions(operation, self._recorder), batch=True)
        return None

    def get_context(self) -> Any:
        return self._context_proxy

    def get_bind(self) -> Any:
        return self._context_proxy.bind


def read_function(function: Callable[[], Any] | None, backend: str, path: str) -> Reading:
    """Run ``function`` (a revision's upgrade or downgrade) and record what it does."""
    if function is None:
        return Reading(defined=False)
    recorder = _Recorder(backend, path)
    operations = RecordingOperations(recorder)
    reading = Reading(actions=recorder.actions)
    with _installed(operations):
        try:
            function()
        except Exception as error:
            reading.raised = error
            reading.raised_line = _raising_line(error, path)
    return reading


@contextmanager
def _installed(operations: RecordingOperations) -> Iterator[None]:
    """Make ``alembic.op`` speak to ``operations``, as Operations.context() does for its own."""
    names, modules = Operations._setups[Operations]
    for globals_, _locals in modules:
        globals_["_proxy"] = operations
        for name in names:
            globals_[name] = getattr(operations, name)
    try:
        yield
    finally:
        for globals_, _locals in modules:
            globals_["_proxy"] = None
            for name in names:
                globals_.pop(name, None)


def _raising_line(error: BaseException, path: str) -> int | None:
    traceback = error.__traceback__
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == path:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


# -- Alembic operation objects to actions --------------------------------------------------


def _column_facts(column: sa.Column[Any]) -> ColumnFacts:
    default = column.server_default
    default_text = None
    if default is not None:
        argument = getattr(default, "arg", None)
        default_text = str(getattr(argument, "text", argument)) if argument is not None else "?"
    serial = column.identity is not None or (
        column.autoincrement is True and isinstance(column.type, sa.Integer)
    )
    if isinstance(default, sa.Sequence):
        serial = True
    return ColumnFacts(
        name=column.name,
        type=facts(column.type),
        nullable=bool(column.nullable) and not column.primary_key,
        server_default=default_text,
        autoincrement=serial,
        primary_key=column.primary_key,
    )


def to_actions(operation: Any, recorder: _Recorder) -> list[Action]:
    """The actions one Alembic operation stands for."""
    o = alembic_ops
    if isinstance(operation, o.ExecuteSQLOp):
        dialect = migration_context(recorder.backend).dialect
        try:
            sql = statement_text(operation.sqltext, dialect)
        except Exception as error:
            return [Action(Kind.UNPARSED_SQL, sql=repr(operation.sqltext), error=str(error))]
        return read_sql(sql, recorder.backend)
    if isinstance(operation, o.CreateTableOp):
        columns = tuple(_column_facts(c) for c in operation.columns if isinstance(c, sa.Column))
        return [Action(Kind.CREATE_TABLE, table=operation.table_name, columns=columns)]
    if isinstance(operation, o.DropTableOp):
        return [Action(Kind.DROP_TABLE, table=operation.table_name)]
    if isinstance(operation, o.RenameTableOp):
        return [
            Action(Kind.RENAME_TABLE, table=operation.table_name, new_name=operation.new_table_name)
        ]
    if isinstance(operation, o.AddColumnOp):
        column = _column_facts(operation.column)
        return [
            Action(
                Kind.ADD_COLUMN, table=operation.table_name, column=column.name, columns=(column,)
            )
        ]
    if isinstance(operation, o.DropColumnOp):
        return [Action(Kind.DROP_COLUMN, table=operation.table_name, column=operation.column_name)]
    if isinstance(operation, o.AlterColumnOp):
        return [_alter_column(operation)]
    if isinstance(operation, o.CreateIndexOp):
        return [
            Action(
                Kind.CREATE_INDEX,
                table=operation.table_name,
                name=operation.index_name,
                unique=bool(operation.unique),
                concurrently=bool(operation.kw.get("postgresql_concurrently")),
                column_names=tuple(str(c) for c in operation.columns),
            )
        ]
    if isinstance(operation, o.DropIndexOp):
        return [
            Action(
                Kind.DROP_INDEX,
                table=operation.table_name,
                name=str(operation.index_name),
                concurrently=bool(operation.kw.get("postgresql_concurrently")),
            )
        ]
    if isinstance(operation, o.AddConstraintOp):
        return [_add_constraint(operation)]
    if isinstance(operation, o.DropConstraintOp):
        return [
            Action(
                Kind.DROP_CONSTRAINT,
                table=operation.table_name,
                name=str(operation.constraint_name),
                constraint=operation.constraint_type,
            )
        ]
    if isinstance(operation, o.BulkInsertOp):
        return [Action(Kind.INSERT, table=getattr(operation.table, "name", None))]
    return [Action(Kind.OTHER, table=getattr(operation, "table_name", None))]


def _alter_column(operation: alembic_ops.AlterColumnOp) -> Action:
    return Action(
        Kind.ALTER_COLUMN,
        table=operation.table_name,
        column=operation.column_name,
        new_type=facts(operation.modify_type),
        old_type=facts(operation.existing_type),
        nullable=operation.modify_nullable,
        new_name=operation.modify_name,
        server_default_changed=operation.modify_server_default is not False,
    )


def _add_constraint(operation: Any) -> Action:
    o = alembic_ops
    table = getattr(operation, "table_name", None) or getattr(operation, "source_table", None)
    kind = {
        o.CreateForeignKeyOp: "foreign_key",
        o.CreateCheckConstraintOp: "check",
        o.CreateUniqueConstraintOp: "unique",
        o.CreatePrimaryKeyOp: "primary_key",
    }.get(type(operation), "other")
    kw = getattr(operation, "kw", {}) or {}
    columns = tuple(
        str(c)
        for c in getattr(operation, "columns", None) or getattr(operation, "local_cols", None) or ()
    )
    condition = getattr(operation, "condition", None)
    return Action(
        Kind.ADD_CONSTRAINT,
        table=table,
        name=str(operation.constraint_name) if operation.constraint_name else None,
        constraint=kind,
        not_valid=bool(kw.get("postgresql_not_valid")),
        column_names=columns,
        referent=getattr(operation, "referent_table", None),
        referent_columns=tuple(str(c) for c in getattr(operation, "remote_cols", None) or ()),
        referent_options=tuple(
            (key, str(kw[key]))
            for key in ("ondelete", "onupdate", "deferrable", "initially", "match")
            if kw.get(key) is not None
        ),
        condition=_condition_text(condition) if condition is not None else None,
    )


def _condition_text(condition: Any) -> str:
    """A check constraint's condition as SQL (a string, text() or an expression)."""
    if isinstance(condition, str):
        return condition
    text = getattr(condition, "text", None)
    if isinstance(text, str):
        return text
    try:
        return str(condition.compile(compile_kwargs={"literal_binds": True}))
    except Exception:  # an expression only a dialect can compile
        return str(condition)
