"""Revision files `make`, `merge` and plain `alembic revision` write pass `ruff check` and
`ruff format --check` with Ruff's default settings (no project configuration: --isolated)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support.helpers import Project, assert_ruff_clean, head_of, write_revision

MODELS = """
    import enum
    from datetime import datetime

    from sqlalchemy import (
        JSON, CheckConstraint, Enum, ForeignKey, Index, Numeric, String, Text,
        UniqueConstraint, func,
    )
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class Status(enum.Enum):
        draft = "draft"
        published = "published"
        archived_after_a_long_and_complicated_review = "archived_after_a_long_and_complicated_review"
        # STATUS


    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(String(255), unique=True)
        password: Mapped[str] = mapped_column(String(255))
        created_at: Mapped[datetime] = mapped_column(server_default=func.now())
        balance_in_the_accounting_currency: Mapped[float] = mapped_column(
            Numeric(12, 2), server_default="0"
        )
        # PHONE


    class Post(Base):
        __tablename__ = "posts_with_a_rather_long_table_name"
        __table_args__ = (
            UniqueConstraint("owner_id", "title", name="uq_posts_owner_id_title_and_more"),
            CheckConstraint("length(title) > 3", name="ck_title_length"),
            Index("ix_posts_owner_published", "owner_id", "published"),
        )
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(String(200))
        body: Mapped[str] = mapped_column(Text, server_default="a \\"quoted\\" default")
        status: Mapped[Status] = mapped_column(Enum(Status, name="post_status"), default=Status.draft)
        published: Mapped[bool] = mapped_column(server_default="1")
        extra: Mapped[dict[str, str] | None] = mapped_column(JSON)
        owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # PROFILES
"""

PROFILES = """
class Profile(Base):
    __tablename__ = "profiles"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    telephone: Mapped[str | None] = mapped_column(String(50))
"""


def _edit(project: Project, old: str, new: str) -> None:
    path = project.root / f"{project.module}.py"
    path.write_text(path.read_text().replace(old, new))
    sys.modules.pop(project.module, None)  # the next verb imports the models again


def test_what_make_and_merge_write_is_ruff_clean(fresh_url: str, tmp_path: Path) -> None:
    project = Project.create(tmp_path, fresh_url, models=MODELS)
    assert project.cli("init").exit_code == 0
    first = project.cli("make", "create users and posts, with a message longer than a line is")
    assert first.exit_code == 0, first.output
    assert project.cli("upgrade").exit_code == 0
    root = head_of(project)

    # A rename, a new enum value, a new column with a long name: one revision.
    _edit(project, "balance_in_the_accounting_currency", "balance")
    _edit(project, "# STATUS", 'withdrawn = "withdrawn"')
    _edit(project, "# PHONE", "phone_number: Mapped[str | None] = mapped_column(String(50))")
    second = project.cli(
        "make",
        "rename balance, add withdrawn, add phone_number",
        "--rename",
        "users.balance_in_the_accounting_currency:users.balance",
    )
    assert second.exit_code == 0, second.output
    assert project.cli("upgrade").exit_code == 0

    # A column moved to a new table: the revision holds a MANUAL STEP with comments only.
    _edit(project, "phone_number: Mapped[str | None] = mapped_column(String(50))", "")
    _edit(project, "# PROFILES", PROFILES.replace("telephone", "phone_number"))
    moved = project.cli("make", "move users.phone_number to profiles", "--no-input")
    assert moved.exit_code == 0, moved.output
    assert "MANUAL STEP" in project.revision_files()[-1].read_text() or any(
        "MANUAL STEP" in p.read_text() for p in project.revision_files()
    )

    # An empty revision, with a message that has quotes, tabs and stray whitespace.
    message = "  hand-written: \"quoted\" and 'single' \\ backslash  \n\tsecond line  "
    empty = project.cli("make", "--empty", message)
    assert empty.exit_code == 0, empty.output

    # Two heads joined by a merge revision.
    hand_written = write_revision(project, "aaaa00000001", root)
    merged = project.cli("merge", "-m", "merge heads")
    assert merged.exit_code == 0, merged.output

    ours = [p for p in project.revision_files() if p != hand_written]
    assert len(ours) == 5
    assert_ruff_clean(ours)
    # Laid out, the revisions still run: up to the merge and all the way down.
    upgraded = project.cli("upgrade", "heads")
    assert upgraded.exit_code == 0, upgraded.output
    assert project.cli("downgrade", "base").exit_code == 0


def test_plain_alembic_revisions_on_an_init_made_folder_are_ruff_clean(
    fresh_url: str, tmp_path: Path
) -> None:
    project = Project.create(tmp_path, fresh_url, models=MODELS)
    assert project.run("init").exit_code == 0
    autogenerated = project.run("revision", "--autogenerate", "-m", "create", program="alembic")
    assert autogenerated.exit_code == 0, autogenerated.output
    empty = project.run("revision", "-m", "by hand", program="alembic")
    assert empty.exit_code == 0, empty.output
    assert_ruff_clean(project.revision_files())
