"""Putting it together: read every revision in order, run the rules, apply silences and sizes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi_alembic.lint import source
from fastapi_alembic.lint.advice import Subject
from fastapi_alembic.lint.context import Environment, Hit, RuleContext, Silence
from fastapi_alembic.lint.model import Direction, Finding, Kind, Reading, Severity
from fastapi_alembic.lint.reader import read_function
from fastapi_alembic.lint.report import LintReport
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.rules import RULES
from fastapi_alembic.lint.schema_state import SchemaState
from fastapi_alembic.lint.settings import LintSettings


@dataclass(frozen=True)
class RevisionFile:
    """One revision as lint needs it: Alembic's Script carries all of this."""

    revision: str
    path: str
    module: ModuleType

    @classmethod
    def of(cls, script: Any) -> RevisionFile:
        return cls(script.revision, str(Path(script.path).resolve()), script.module)


def lint(
    history: Sequence[RevisionFile],
    selected: set[str] | None,
    environment: Environment,
    settings: LintSettings | None = None,
    rules: Sequence[Rule] = RULES,
) -> LintReport:
    """Lint the ``selected`` revisions of ``history`` (base first; None: all of them)."""
    settings = settings or LintSettings()
    backends = environment.backends
    upgrades = {
        (item.revision, backend): read_function(
            getattr(item.module, "upgrade", None), backend, item.path
        )
        for item in history
        for backend in backends
    }
    created = frozenset(
        (action.new_name if action.kind is Kind.RENAME_TABLE else action.table) or ""
        for reading in upgrades.values()
        for action in reading.actions
        if action.kind in {Kind.CREATE_TABLE, Kind.RENAME_TABLE}
    )
    states = {backend: SchemaState() for backend in backends}
    findings: dict[tuple[Any, ...], Finding] = {}
    silenced = 0
    small: set[tuple[Any, ...]] = set()
    checked: list[str] = []
    for item in history:
        wanted = selected is None or item.revision in selected
        text = Path(item.path).read_text(encoding="utf-8") if wanted else ""
        file_silences = source.silences(text) if wanted else ()
        imports = source.imports(text, ("model", *environment.app_packages)) if wanted else ()
        if wanted:
            checked.append(item.revision)
        for backend in backends:
            up = upgrades[(item.revision, backend)]
            hits: list[tuple[Rule, RuleContext, Hit]] = []
            shared = _Shared(item, backend, up, environment, file_silences, imports, created)
            if wanted:
                hits += _run(rules, shared.context("upgrade", up, states[backend]))
            states[backend].apply(up.actions)
            if wanted:
                down = read_function(getattr(item.module, "downgrade", None), backend, item.path)
                hits += _run(rules, shared.context("downgrade", down, states[backend]))
            for rule, context, hit in hits:
                if rule.id in settings.ignore:
                    continue
                finding = _finding(rule, context, hit, settings, environment)
                if finding is None:  # about a table too small (or empty) to matter
                    if not _silenced(rule.id, file_silences):
                        small.add((item.revision, rule.id, hit.line, hit.table, hit.column))
                    continue
                if _silenced(rule.id, file_silences):
                    silenced += 1
                    continue
                # One finding for every backend it holds on (messages may differ in detail),
                # as long as the safe way is the same code there.
                key = (
                    finding.revision,
                    finding.rule,
                    finding.direction,
                    finding.line,
                    finding.table,
                    finding.column,
                    finding.safe,
                )
                if key not in findings:
                    findings[key] = finding
                elif backend not in findings[key].backends:
                    merged = (*findings[key].backends, backend)
                    findings[key] = replace(findings[key], backends=merged)
    ordered = sorted(
        findings.values(),
        key=lambda f: (checked.index(f.revision), f.direction != "upgrade", f.line or 0),
    )
    return LintReport(tuple(ordered), tuple(checked), backends, silenced, left_out=len(small))


@dataclass(frozen=True)
class _Shared:
    """What both directions of one revision on one backend share."""

    item: RevisionFile
    backend: str
    upgrade: Reading
    environment: Environment
    silences: tuple[Silence, ...]
    imports: tuple[tuple[str, int], ...]
    history_tables: frozenset[str]

    def context(self, direction: Direction, reading: Reading, before: SchemaState) -> RuleContext:
        return RuleContext(
            revision=self.item.revision,
            path=self.item.path,
            backend=self.backend,
            direction=direction,
            reading=reading,
            upgrade=self.upgrade,
            before=before,
            environment=self.environment,
            silences=self.silences,
            imports=self.imports,
            history_tables=self.history_tables,
        )


def _run(rules: Iterable[Rule], context: RuleContext) -> list[tuple[Rule, RuleContext, Hit]]:
    return [
        (rule, context, hit)
        for rule in rules
        if context.backend in rule.backends and context.direction in rule.directions
        for hit in rule.check(context)
    ]


def subject_of(context: RuleContext, hit: Hit) -> Subject:
    """What the finding is about, for its rule's advice."""
    action = hit.action
    table = hit.table or (action.table if action else None) or _first_table(context)
    column = hit.column or (action.column if action else None)
    existing = context.before.column(table, column)
    columns = context.before.tables.get(table or "", {})
    return Subject(
        backend=context.backend,
        revision=context.revision,
        direction=context.direction,
        table=table or "?",
        column=column,
        name=hit.name or (action.name if action else None),
        new_name=action.new_name if action else None,
        columns=action.column_names if action else (),
        kind=action.kind if action else None,
        old_type=action.old_type if action else None,
        new_type=action.new_type if action else None,
        existing=existing,
        added=action.columns[0]
        if action and action.kind is Kind.ADD_COLUMN and action.columns
        else None,
        unique=action.unique if action else False,
        nullable=action.nullable if action else None,
        constraint=action.constraint if action else None,
        referent=action.referent if action else None,
        referent_columns=action.referent_columns if action else (),
        referent_options=action.referent_options if action else (),
        condition=action.condition if action else None,
        assignments=action.assignments if action else (),
        sql=action.sql if action else None,
        key=tuple(name for name, facts in columns.items() if facts.primary_key),
        table_columns=tuple(columns.values()),
        upgrade=tuple(context.upgrade.actions),
        error=type(context.reading.raised).__name__ if context.reading.raised else None,
        line=hit.line if hit.line is not None else (action.line if action else None),
    )


def _first_table(context: RuleContext) -> str | None:
    """The table a finding about the whole revision speaks of: the one its data steps use."""
    ordered = sorted(context.actions, key=lambda a: not a.is_data)
    return next((a.table for a in ordered if a.table), None)


def _silenced(rule: str, silences: tuple[Silence, ...]) -> bool:
    return any(rule in s.rules and s.reason for s in silences)


def _finding(
    rule: Rule,
    context: RuleContext,
    hit: Hit,
    settings: LintSettings,
    environment: Environment,
) -> Finding | None:
    severity = settings.severity.get(rule.id) or hit.severity or rule.severity
    table = hit.table or (hit.action.table if hit.action else None)
    message = hit.message
    rows = None
    if environment.rows is not None and rule.scope is not None and table:
        rows = environment.rows.get(table, 0)
        small = rows < environment.threshold if rule.scope == "size" else rows == 0
        if small:
            return None
        if table in environment.rows_at_least:
            message += f" (more than {environment.threshold:,} rows)"
        else:
            message += f" (about {rows:,} rows)"
    if context.direction == "downgrade" and "upgrade" in rule.directions:
        message = f"downgrade() {message}"
    level = Severity(severity)
    if context.direction == "downgrade" and level.rank > settings.downgrade_severity.rank:
        # A downgrade runs in an emergency, by hand: what it risks is worth knowing, but it
        # does not stop the upgrade that CI is gating.
        level = settings.downgrade_severity
    return Finding(
        rule=rule.id,
        severity=level,
        revision=context.revision,
        path=context.path,
        message=message,
        line=hit.line if hit.line is not None else (hit.action.line if hit.action else None),
        direction=context.direction,
        backends=(context.backend,),
        table=table,
        column=hit.column or (hit.action.column if hit.action else None),
        rows=rows,
        safe=rule.advice(subject_of(context, hit)),
        why=rule.why,
    )


__all__ = ["Environment", "Reading", "RevisionFile", "lint"]
