"""How the migration test suite records each check's outcome: one sentence, the details one
a line below it, partial when it covered part of the history, passwords masked."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import URL

from fastapi_alembic.errors import MigrationFailed
from fastapi_alembic.reports import CheckItem, SkippedRevision
from fastapi_alembic.urls import mask_text

CheckCallback = Callable[[CheckItem], None]


def reason_of(error: BaseException) -> str:
    text = str(error)
    if isinstance(error, MigrationFailed):  # what the scratch database was left as is no news
        text = text.rpartition("; ")[0] or text
        if text.startswith("Migration "):  # the caller names the revision already
            text = text.partition(" failed with ")[2] or text
    return text.rstrip(".")


def listed(skipped: list[SkippedRevision]) -> str:
    shown = ", ".join(s.revision for s in skipped[:3])
    return shown + (f" and {len(skipped) - 3} more" if len(skipped) > 3 else "")


class CheckRecorder:
    """The checks reported so far, each handed to ``on_check`` as it comes."""

    def __init__(self, server: URL, on_check: CheckCallback | None) -> None:
        self.server = server
        self.on_check = on_check
        self.items: list[CheckItem] = []

    def _add(self, item: CheckItem) -> None:
        password = self.server.password
        item = CheckItem(
            item.name,
            item.ok,
            mask_text(item.detail, password),
            item.partial,
            item.skipped,
            tuple(mask_text(line, password) for line in item.details),
        )
        self.items.append(item)
        if self.on_check is not None:
            self.on_check(item)

    def report(self, name: str, ok: bool, detail: str, details: list[str] | None = None) -> None:
        self._add(CheckItem(name, ok, detail, details=tuple(details or ())))

    def report_many(self, name: str, ok: bool, found: list[str], summary: str) -> None:
        """One finding on the check's line; several counted there, one line each below."""
        if len(found) == 1:
            self.report(name, ok, found[0])
        else:
            self.report(name, ok, summary, found)

    def partly(
        self,
        name: str,
        covered: str,
        skipped: list[SkippedRevision],
        details: list[str] | None = None,
    ) -> None:
        """A check that covered only part of the history: never a pass."""
        reasons = list(dict.fromkeys(s.reason for s in skipped))
        left_out = "; ".join(
            f"{listed([s for s in skipped if s.reason == r])}: {r}" for r in reasons
        )
        detail = (
            f"partial: {covered}; not checked: {left_out}"
            if covered
            else (f"not checked: {left_out}")
        )
        self._add(
            CheckItem(
                name,
                False,
                detail,
                partial=True,
                skipped=tuple(skipped),
                details=tuple(details or ()),
            )
        )
