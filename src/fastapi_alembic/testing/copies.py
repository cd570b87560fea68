"""The thread behind :class:`~fastapi_alembic.testing.templates.TemplateDatabases` that makes
copies ahead of the tests asking for them, and recycles or drops the copies handed back.

It has a store (and a connection) of its own, so a test never waits on a drop or a reset.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from contextlib import suppress

from sqlalchemy.exc import DBAPIError

from fastapi_alembic.errors import MigrationsError
from fastapi_alembic.testing.stores import TemplateStore


def _learn(store: TemplateStore, template: str, name: str) -> None:
    """Read what recycling needs from a fresh copy; on failure copies are dropped instead."""
    with suppress(DBAPIError, MigrationsError, OSError):
        store.learn(template, name)


def _recycled(store: TemplateStore, template: str, name: str) -> bool:
    """Whether the used copy ``name`` was reset to the template's state (else: drop it)."""
    try:
        return store.recycle(template, name)
    except (DBAPIError, MigrationsError, OSError):
        return False


class _Worker:
    """A thread with a store (and connection) of its own that recycles or drops copies
    handed back and, when asked to, keeps ``ahead`` copies made in advance so that a test
    need not wait. A recycled copy joins the ready ones."""

    def __init__(
        self,
        store: TemplateStore,
        make_name: Callable[[], str],
        ahead: int,
        *,
        recycle: bool = False,
    ) -> None:
        self.store = store
        self.make_name = make_name
        self.ahead = ahead
        self.recycle = recycle
        self.template: str | None = None
        self.returns: deque[str] = deque()  # handed back, to recycle
        self.drops: deque[str] = deque()
        self.ready: deque[str] = deque()
        self.error: BaseException | None = None
        self.stopping = False
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="fastapi-alembic-copies", daemon=True)
        self.thread.start()

    def drop(self, name: str) -> None:
        with self.changed:
            self.drops.append(name)
            self.changed.notify_all()

    def hand_back(self, name: str) -> None:
        with self.changed:
            self.returns.append(name)
            self.changed.notify_all()

    def take(self, template: str) -> str:
        """A copy made ahead (waiting for the one being made); raises what making it raised."""
        with self.changed:
            self.template = template
            self.changed.notify_all()
            while not self.ready and self.error is None:
                self.changed.wait()
            if self.ready:
                # Wake the worker: with fewer copies ready than wanted it starts the next one
                # now, while this one's test runs, rather than when this copy comes back.
                self.changed.notify_all()
                return self.ready.popleft()
            error, self.error = self.error, None
            raise error  # type: ignore[misc]

    def _wants_copy(self) -> bool:
        wanted = len(self.ready) < self.ahead and not self.stopping
        return wanted and self.template is not None and self.error is None

    def _run(self) -> None:
        try:
            while True:
                with self.changed:
                    while not (self.returns or self.drops or self.stopping or self._wants_copy()):
                        self.changed.wait()
                    template = self.template or ""
                    if self.returns and not self.stopping and template:
                        # Before a new copy: a reset costs a fraction of one, and a test
                        # may be waiting for either.
                        job, name = "recycle", self.returns.popleft()
                    elif self._wants_copy():  # a test may be waiting: copies come first
                        job, name = "copy", self.make_name()
                    elif self.returns:
                        job, name = "drop", self.returns.popleft()
                    elif self.drops:
                        job, name = "drop", self.drops.popleft()
                    else:
                        break  # stopping, and every drop is done
                if job == "recycle" and _recycled(self.store, template, name):
                    with self.changed:
                        self.ready.append(name)
                        self.changed.notify_all()
                    continue
                if job in ("drop", "recycle"):
                    with suppress(DBAPIError, MigrationsError, OSError):
                        self.store.drop(name)  # else a later run's sweep drops it
                    continue
                try:
                    self.store.copy(template, name)
                    if self.recycle:
                        _learn(self.store, template, name)
                except BaseException as error:  # handed to take(), which raises it
                    with suppress(DBAPIError, MigrationsError, OSError):
                        self.store.drop(name)
                    with self.changed:
                        self.error = error
                        self.changed.notify_all()
                    continue
                with self.changed:
                    self.ready.append(name)
                    self.changed.notify_all()
        finally:
            for name in self.ready:
                with suppress(DBAPIError, MigrationsError, OSError):
                    self.store.drop(name)
            self.ready.clear()
            self.store.close()

    def close(self) -> None:
        """Finish every drop, drop the copies made ahead and not taken, and stop."""
        with self.changed:
            self.stopping = True
            self.changed.notify_all()
        self.thread.join()
