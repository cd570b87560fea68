"""Whether the ledger can be believed: a table that is gone while revisions are applied, columns
that are gone, rows with no checksum or with an outcome the ledger never writes.

Each of these would otherwise hide an edited or removed migration file (drift is read from the
ledger), so `status` reports them and `check` fails on them. A ledger missing columns cannot be
read at all: every verb that reads it stops with one sentence naming it.

Imports no Alembic: the start-up gate reads the ledger too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from fastapi_alembic.runtime import ledger

#: Every outcome the ledger writes (see runtime/ledger.py); any other was written by hand.
KNOWN_OUTCOMES = frozenset(
    {
        "running",
        "failed",
        "applied",
        "reverted",
        "adopted",
        "accepted",
        "retried",
        "removed",
        "resolved",
    }
)


@dataclass(frozen=True)
class LedgerProblem:
    """Something that makes the ledger unable to tell whether an applied file changed."""

    kind: str  # "missing table", "missing columns", "no checksum", "unknown outcome"
    sentence: str
    revision: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "revision": self.revision, "sentence": self.sentence}


def problems(
    connection: Connection, name: str, schema: str | None, applied: set[str]
) -> list[LedgerProblem]:
    """What keeps the ledger from vouching for the applied migrations (``applied``: what the
    version table says is applied)."""
    table = ledger.qualified(name, schema)
    if not ledger.exists(connection, name, schema):
        if not applied:
            return []  # nothing applied yet: the first upgrade creates the ledger
        listed = ", ".join(sorted(applied)[:3]) + (" ..." if len(applied) > 3 else "")
        return [
            LedgerProblem(
                "missing table",
                f"The ledger table {table} is missing although {len(applied)} revision(s) are "
                f"applied ({listed}): it was dropped, or the database was migrated without "
                "FastAPI-Alembic, so edits to applied migration files cannot be told; run "
                "`fastapi-alembic log --adopt` to record the applied files as they are now.",
            )
        ]
    missing = ledger.missing_columns(connection, name, schema)
    if missing:
        sentence = ledger.missing_columns_sentence(name, schema, missing)
        return [LedgerProblem("missing columns", sentence)]
    return row_problems(ledger.entries(connection, name, schema), table)


def row_problems(rows: Iterable[ledger.Entry], table: str) -> list[LedgerProblem]:
    """Per revision, the latest row that says what it is, when that row cannot be trusted: an
    outcome the ledger never writes, or an applied row with no checksum. A later row that
    settles the revision (applied with a checksum, accepted, reverted, removed) clears it."""
    doubtful: dict[str, tuple[str, ledger.Entry]] = {}
    for entry in rows:
        if entry.outcome not in KNOWN_OUTCOMES:
            doubtful[entry.revision] = ("unknown outcome", entry)
        elif entry.outcome in ledger.APPLIED:
            if entry.checksum:
                doubtful.pop(entry.revision, None)
            else:
                doubtful[entry.revision] = ("no checksum", entry)
        elif entry.outcome in ("reverted", "removed"):
            doubtful.pop(entry.revision, None)
    found = []
    for revision, (kind, entry) in doubtful.items():
        accept = (
            f"check the file, then run `fastapi-alembic log --accept {revision}` to record "
            "it as it is now"
        )
        if kind == "unknown outcome":
            sentence = (
                f"Row {entry.id} of the ledger table {table} gives revision {revision} an "
                f"outcome the ledger never writes ({entry.outcome!r}), so whether it is applied "
                f"and whether its file changed cannot be told: {accept}."
            )
        else:
            sentence = (
                f"Row {entry.id} of the ledger table {table} records revision {revision} as "
                f"{entry.outcome} with no checksum, so an edit of its file cannot be told: "
                f"{accept}."
            )
        found.append(LedgerProblem(kind, sentence, revision))
    return found
