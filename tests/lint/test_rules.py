"""Every rule: a revision that triggers it, and its safe twin that does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_alembic.lint.context import Environment
from fastapi_alembic.lint.engine import lint
from fastapi_alembic.lint.model import Severity
from fastapi_alembic.lint.rules import BY_ID, RULES
from tests.support.lint_helpers import BASE_SCHEMA, lint_snippet, load, revision_source, rules_found
from tests.support.lint_rule_cases import CASES


def test_every_rule_has_a_case_and_complete_advice() -> None:
    assert set(CASES) | {"drop-mapped-column"} == set(BY_ID) == {rule.id for rule in RULES}
    for rule in RULES:
        assert rule.why and rule.safe and rule.title, rule.id
        compile(rule.safe, rule.id, "exec")  # the safe way is Python one can paste


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_triggers_and_its_safe_twin_does_not(
    rule_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "app" / "myapp_lint"
    (package).mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(
        "import sqlalchemy as sa\nUser = sa.table('users', sa.column('id'))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "app"))
    case = CASES[rule_id]
    rule = BY_ID[rule_id]
    triggered = lint_snippet(
        tmp_path, case.trigger, case.trigger_down, header=case.header, backends=rule.backends
    )
    found = [f for f in triggered.findings if f.rule == rule_id]
    assert found, f"{rule_id} not found in: {[f.message for f in triggered.findings]}"
    assert found[0].severity is rule.severity
    assert found[0].line is not None or rule.directions == ("downgrade",)
    safe = lint_snippet(
        tmp_path, case.safe, case.safe_down, header=case.safe_header, backends=rule.backends
    )
    assert rule_id not in rules_found(safe), [f.message for f in safe.findings]


def test_severities_follow_the_issue() -> None:
    errors = {r.id for r in RULES if r.severity is Severity.ERROR}
    for rule in RULES:
        if rule.category in {"data-loss", "locking", "mysql", "compatibility"}:
            assert rule.id in errors, rule.id
    assert "unbatched-data-change" in errors
    assert BY_ID["sqlite-batch-copy"].severity is Severity.WARNING
    assert BY_ID["missing-downgrade"].severity is Severity.WARNING


def test_drop_mapped_column_needs_the_models_to_still_map_it(tmp_path: Path) -> None:
    base = load(tmp_path, revision_source(BASE_SCHEMA))
    drop = load(tmp_path, revision_source('op.drop_column("users", "name")'))
    mapped = {"users": {"id", "email", "name"}}
    environment = Environment(model_columns=mapped, heads=frozenset({drop.revision}))
    report = lint([base, drop], None, environment)
    assert "drop-mapped-column" in {f.rule for f in report.findings}
    environment = Environment(
        model_columns={"users": {"id", "email"}}, heads=frozenset({drop.revision})
    )
    report = lint([base, drop], None, environment)
    assert "drop-mapped-column" not in {f.rule for f in report.findings}


def test_docs_lint_md_is_written_from_the_rules() -> None:
    from fastapi_alembic.lint.docs import render

    page = Path(__file__).parents[2] / "docs" / "lint.md"
    text = page.read_text()
    for rule in RULES:
        assert f"### `{rule.id}`" in text, f"docs/lint.md has no page for {rule.id}"
    assert text == render(), "docs/lint.md is stale: run `make docs`"


@pytest.mark.parametrize(("version", "flagged"), [((10, 5), True), ((15, 4), False)])
def test_the_server_version_decides_version_dependent_rules(
    tmp_path: Path, version: tuple[int, ...], flagged: bool
) -> None:
    """Before PostgreSQL 11 any default rewrites the table; from 11 only a volatile one."""
    environment = Environment(backends=("postgresql",), versions={"postgresql": version})
    report = lint_snippet(
        tmp_path,
        'op.add_column("users", sa.Column("plan", sa.String(20), server_default="free"))',
        environment=environment,
    )
    assert ("add-column-volatile-default" in rules_found(report)) is flagged


def test_a_silence_of_no_rule_is_a_finding(tmp_path: Path) -> None:
    report = lint_snippet(
        tmp_path,
        'op.drop_column("users", "name")  # fastapi-alembic: allow drop-colum -- typo',
        backends=("sqlite",),
    )
    messages = [f.message for f in report.findings if f.rule == "silence-without-reason"]
    assert messages and "'allow drop-colum' names no lint rule" in messages[0]
    assert "drop-column" in rules_found(report)
