"""The result of a lint run, for the CLI to print as text, JSON or GitHub annotations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi_alembic.lint.model import Finding, Severity


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    revisions: tuple[str, ...]  # the revisions checked, oldest first
    backends: tuple[str, ...]
    silenced: int = 0
    database: str | None = None  # the masked URL whose tables decided severities
    #: findings left out because the database's table was under the size they matter at
    left_out: int = 0

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return (
            f"{len(self.revisions)} revision(s) checked for {', '.join(self.backends)}: "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
            + (f", {self.silenced} silenced" if self.silenced else "")
            + (f", {self.left_out} left out (small tables)" if self.left_out else "")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "revisions": list(self.revisions),
            "backends": list(self.backends),
            "database": self.database,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "silenced": self.silenced,
            "left_out": self.left_out,
            "findings": [f.to_dict() for f in self.findings],
        }
