"""Building revision histories from snippets and linting them in-process, without a database."""

from __future__ import annotations

import importlib.util
import textwrap
import uuid
from pathlib import Path

from fastapi_alembic.lint.context import Environment
from fastapi_alembic.lint.engine import RevisionFile, lint
from fastapi_alembic.lint.facts import backends as lint_backends
from fastapi_alembic.lint.report import LintReport
from fastapi_alembic.lint.settings import LintSettings

#: The schema most cases start from: two tables made by an earlier revision.
BASE_SCHEMA = """
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("name", sa.String(50), nullable=True),
        sa.Column("status", sa.Enum("new", "active", "gone", name="status"), nullable=True),
        sa.Column("balance", sa.Numeric(10, 2), nullable=True),
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
    )
"""
BASE_DOWNGRADE = """
    op.drop_table("posts")
    op.drop_table("users")
"""


def revision_source(upgrade: str, downgrade: str = "pass", header: str = "") -> str:
    """A revision file as people write them; bodies are indented by the caller's snippet."""
    up = textwrap.indent(textwrap.dedent(upgrade).strip() or "pass", "    ")
    down = textwrap.indent(textwrap.dedent(downgrade).strip() or "pass", "    ")
    lines = [
        '"""a revision"""',
        textwrap.dedent(header).strip(),
        "from alembic import op",
        "import sqlalchemy as sa",
        "",
        "",
        "def upgrade():",
        up,
        "",
        "",
    ]
    if downgrade is not None:
        lines += ["def downgrade():", down, ""]
    return "\n".join(lines)


def load(folder: Path, source: str, revision: str | None = None) -> RevisionFile:
    revision = revision or uuid.uuid4().hex[:12]
    path = folder / f"{revision}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"rev_{revision}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return RevisionFile(revision, str(path.resolve()), module)


def lint_snippet(
    folder: Path,
    upgrade: str,
    downgrade: str | None = "pass",
    *,
    header: str = "",
    backends: tuple[str, ...] = lint_backends(),
    setup: str | None = BASE_SCHEMA,
    environment: Environment | None = None,
    settings: LintSettings | None = None,
) -> LintReport:
    """Lint one revision written on top of ``setup`` (the tables it makes exist before)."""
    history = []
    if setup is not None:
        history.append(load(folder, revision_source(setup, BASE_DOWNGRADE)))
    source = revision_source(upgrade, downgrade if downgrade is not None else "", header)
    if downgrade is None:
        source = source.split("def downgrade():")[0]
    history.append(load(folder, source))
    environment = environment or Environment(backends=backends)
    return lint(history, {history[-1].revision}, environment, settings)


def rules_found(report: LintReport) -> set[str]:
    return {finding.rule for finding in report.findings}
