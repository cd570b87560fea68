"""What the facade returns: plain dataclasses that the CLI renders as text or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi_alembic.autogen import OperationInfo
    from fastapi_alembic.revisions import RevisionInfo
    from fastapi_alembic.runtime.ledger import Drift
    from fastapi_alembic.runtime.ledger_health import LedgerProblem


@dataclass(frozen=True)
class Status:
    """Where the database stands against the migration files and the models."""

    url: str
    current: tuple[str, ...]
    heads: tuple[str, ...]
    pending: tuple[RevisionInfo, ...]
    models_match: bool
    differences: tuple[OperationInfo, ...] = ()
    #: Applied revisions whose file changed since, or is gone (from the ledger).
    drift: tuple[Drift, ...] = ()
    #: What keeps the ledger from vouching for the applied migrations (a dropped table, rows
    #: with no checksum or an unknown outcome).
    ledger: tuple[LedgerProblem, ...] = ()
    #: Things worth knowing that are not failures (an env.py not wired for us).
    notes: tuple[str, ...] = ()

    @property
    def up_to_date(self) -> bool:
        return set(self.current) == set(self.heads)

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "current": list(self.current),
            "heads": list(self.heads),
            "up_to_date": self.up_to_date,
            "pending": [p.to_dict() for p in self.pending],
            "models_match": self.models_match,
            "differences": [d.to_dict() for d in self.differences],
            "drift": [d.to_dict() for d in self.drift],
            "ledger_problems": [p.to_dict() for p in self.ledger],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class StepStart:
    """A migration about to run: the ``index``-th of the ``total`` this run applies (or
    reverts). A run tried again after a lock timeout counts from 1 again."""

    revision: str
    message: str
    direction: str  # "up" or "down"
    index: int
    #: None when Alembic's plan for the run is not a list (it always is for upgrade/downgrade).
    total: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "message": self.message,
            "direction": self.direction,
            "index": self.index,
            "total": self.total,
        }


@dataclass(frozen=True)
class StepInfo:
    """One migration applied (or reverted) by upgrade or downgrade."""

    revision: str
    message: str
    direction: str  # "up" or "down"
    seconds: float
    #: Its place in the run, as its StepStart said (0 and None when no start was seen).
    index: int = 0
    total: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "message": self.message,
            "direction": self.direction,
            "seconds": round(self.seconds, 6),
        }


@dataclass(frozen=True)
class MoveResult:
    """The outcome of upgrade, downgrade or stamp."""

    before: tuple[str, ...]
    after: tuple[str, ...]
    steps: tuple[StepInfo, ...] = ()
    sql: str | None = None

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "before": list(self.before),
            "after": list(self.after),
            "steps": [s.to_dict() for s in self.steps],
        }
        if self.sql is not None:
            result["sql"] = self.sql
        return result


@dataclass(frozen=True)
class MadeRevision:
    """A revision file written by make or merge."""

    revision: str
    message: str
    path: str
    operations: tuple[OperationInfo, ...] = ()
    #: things the user should know, such as a drop and an add that look like a rename
    warnings: tuple[str, ...] = ()

    @property
    def destructive(self) -> tuple[OperationInfo, ...]:
        return tuple(o for o in self.operations if o.destructive)

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "message": self.message,
            "path": self.path,
            "operations": [o.to_dict() for o in self.operations],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class SkippedRevision:
    """A revision a check could not cover, and why."""

    revision: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "reason": self.reason}


@dataclass(frozen=True)
class CheckItem:
    """One check's outcome: passed, failed, or partial (it covered only part of the history,
    which is never a pass: ``ok`` is false and ``skipped`` says what was left out and why)."""

    name: str
    ok: bool
    detail: str  # one sentence
    partial: bool = False
    skipped: tuple[SkippedRevision, ...] = ()
    #: one line each under the sentence: every loss, trace or note (a long history has many)
    details: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "passed" if self.ok else "partial" if self.partial else "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "status": self.status,
            "detail": self.detail,
            "details": list(self.details),
            "skipped": [s.to_dict() for s in self.skipped],
        }


@dataclass(frozen=True)
class CheckReport:
    items: tuple[CheckItem, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)

    @property
    def failed(self) -> int:
        return sum(item.status == "failed" for item in self.items)

    @property
    def partial(self) -> int:
        return sum(item.status == "partial" for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [i.to_dict() for i in self.items],
            "notes": list(self.notes),
        }
