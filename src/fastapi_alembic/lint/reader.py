"""Reading what a revision would do, without a database.

The revision's upgrade()/downgrade() run against Operations whose ``invoke`` records each
operation object instead of running it. ``op.get_bind()`` hands out a connection that records
what it is asked to execute and returns no rows (lint/bind.py); ``autocommit_block()`` and
``batch_alter_table()`` are followed so rules know where each step runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from alembic.operations import BatchOperations, Operations
from alembic.operations import ops as alembic_ops
from alembic.operations.batch import BatchOperationsImpl

from fastapi_alembic.exits import contained
from fastapi_alembic.lint.bind import ReaderLimit, RecordingConnection
from fastapi_alembic.lint.model import Action, Kind, Reading
from fastapi_alembic.lint.operations import migration_context, statement_text, to_actions


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
        # Imported here: the SQL parser (sqlglot, about 7 MiB) is only needed for raw SQL, and
        # the data-loss guard's read-ahead (MySQL, MariaDB) reads every revision with this.
        from fastapi_alembic.lint.sql import read_sql

        self.add(read_sql(sql, self.backend))


class _RecordingContext:
    """``op.get_context()``: the offline context, with autocommit_block() recorded."""

    def __init__(self, recorder: _Recorder) -> None:
        self._recorder = recorder
        self._context = migration_context(recorder.backend)
        dialect = self._context.dialect
        self.bind = self.connection = RecordingConnection(recorder.execute, dialect)

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
        self._recorder.add(to_actions(operation, self._recorder.backend))
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
        self._recorder.add(to_actions(operation, self._recorder.backend), batch=True)
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
    name = getattr(function, "__name__", "upgrade")

    def exited(how: str, _error: BaseException) -> str:
        return (
            f"The migration file {path} {how} in {name}() (run with operations that record, "
            "to read it): a migration must not end the process; raise an exception to make "
            "it fail."
        )

    with _installed(operations), contained(exited):
        try:
            function()
        except Exception as error:
            reading.raised = error
            reading.raised_line = _raising_line(error, path)
            reading.reader_limit = isinstance(error, ReaderLimit) or _our_object(error)
    return reading


def _our_object(error: Exception) -> bool:
    """An AttributeError about one of the reader's stand-ins: its limit, not the revision's."""
    return isinstance(error, AttributeError) and type(getattr(error, "obj", None)).__module__ in (
        __name__,
        RecordingConnection.__module__,
    )


@contextmanager
def _installed(operations: RecordingOperations) -> Iterator[None]:
    """Make ``alembic.op`` speak to ``operations``, as Operations.context() does for its own,
    and put back what was there (a migration running now, whose revision is being read)."""
    names, modules = Operations._setups[Operations]
    saved = [{n: g[n] for n in ("_proxy", *names) if n in g} for g, _locals in modules]
    for globals_, _locals in modules:
        globals_["_proxy"] = operations
        for name in names:
            globals_[name] = getattr(operations, name)
    try:
        yield
    finally:
        for (globals_, _locals), before in zip(modules, saved, strict=True):
            globals_["_proxy"] = None
            for name in names:
                globals_.pop(name, None)
            globals_.update(before)


def _raising_line(error: BaseException, path: str) -> int | None:
    traceback = error.__traceback__
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == path:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line
