"""[tool.fastapi-alembic.lint]: rules to ignore, severity overrides, where to start, size.

[tool.fastapi-alembic.lint]
ignore = ["missing-lock-timeout"]
severity = { sqlite-batch-copy = "info", drop-column = "warning" }
since = "3f2a9c1e"          # lint only the revisions after this one
large-table-rows = 10000    # with a database: the size from which lock rules are errors
downgrade-severity = "warning"  # findings in downgrade() at most warnings; "error": as upgrade
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi_alembic.errors import ConfigError
from fastapi_alembic.lint.model import Severity

DEFAULT_THRESHOLD = 10_000
_KEYS = {"ignore", "severity", "since", "large-table-rows", "downgrade-severity"}
WHERE = "[tool.fastapi-alembic.lint]"


@dataclass(frozen=True)
class LintSettings:
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    since: str | None = None
    threshold: int = DEFAULT_THRESHOLD
    #: the highest severity of a finding in downgrade(): "error" keeps each rule's own
    downgrade_severity: Severity = Severity.WARNING


def lint_settings(table: dict[str, Any], known_rules: set[str]) -> LintSettings:
    """Check and read the table; a mistake is one ConfigError sentence."""
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(
            f"Unknown setting {unknown[0]!r} under {WHERE}: the settings are "
            f"{', '.join(sorted(_KEYS))}."
        )
    ignore = table.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(i, str) for i in ignore):
        raise ConfigError(f'ignore under {WHERE} must be a list of rule ids, e.g. ["drop-table"].')
    _require_known(ignore, known_rules, "ignore")
    severities = table.get("severity", {})
    if not isinstance(severities, dict):
        raise ConfigError(
            f'severity under {WHERE} must be a table, e.g. {{ drop-table = "warning" }}.'
        )
    _require_known(list(severities), known_rules, "severity")
    levels = {s.value for s in Severity}
    for rule, level in severities.items():
        if level not in levels:
            raise ConfigError(
                f"severity of {rule} under {WHERE} is {level!r}: use error, warning or info."
            )
    since = table.get("since")
    if since is not None and not isinstance(since, str):
        raise ConfigError(f"since under {WHERE} must be a revision id (a string).")
    threshold = table.get("large-table-rows", DEFAULT_THRESHOLD)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
        raise ConfigError(f"large-table-rows under {WHERE} must be a whole number of rows.")
    downgrade = table.get("downgrade-severity", Severity.WARNING.value)
    if downgrade not in levels:
        raise ConfigError(
            f"downgrade-severity under {WHERE} is {downgrade!r}: use error (each rule's own), "
            "warning (the default) or info."
        )
    return LintSettings(
        frozenset(ignore),
        {r: Severity(v) for r, v in severities.items()},
        since,
        threshold,
        Severity(downgrade),
    )


def _require_known(names: list[str], known: set[str], key: str) -> None:
    for name in names:
        if name not in known:
            raise ConfigError(
                f"{key} under {WHERE} names {name!r}, which is not a lint rule: "
                "`fastapi-alembic lint --rules` lists them."
            )
