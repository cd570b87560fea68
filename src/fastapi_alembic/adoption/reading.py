"""What adopt keeps from a project's env.py: the record the reader fills in, and its statements
in file order."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_alembic.errors import ConfigError


class CannotAdopt(ConfigError):
    """Something in env.py that adopt cannot carry over safely: one sentence, exit 2."""


@dataclass
class EnvReading:
    """What adopt keeps from an env.py."""

    path: Path
    source: str
    options: dict[str, str] = field(default_factory=dict)  # keyword -> source text
    splats: list[str] = field(default_factory=list)  # ``**options`` passed to configure
    metadata: str | None = None  # target_metadata's source text, resolved
    #: "module:attribute" readings of target_metadata when it is an imported name's attribute,
    #: most likely first (the caller imports them to find the one that works).
    metadata_references: list[str] = field(default_factory=list)
    url: str | None = None  # an expression giving the URL plain alembic used
    url_from_ini: bool = False  # plain alembic read sqlalchemy.url from alembic.ini
    carried: list[ast.stmt] = field(default_factory=list)  # needed definitions, in order
    kept: list[ast.stmt] = field(default_factory=list)  # set-up adopt cannot classify
    wired: bool = False  # already calls fastapi_alembic.env.run_migrations
    #: Options only the offline (--sql) configure call had: written commented out.
    offline_only: list[str] = field(default_factory=list)

    def segment(self, node: ast.AST) -> str:
        """The source text of ``node``, decorators included."""
        lines = self.source.splitlines()
        start = min(
            [node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]  # type: ignore[attr-defined]
        )
        end = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        return "\n".join(lines[start - 1 : end])

    def where(self, node: ast.AST) -> str:
        return f"{self.path} line {getattr(node, 'lineno', '?')}"


def iter_statements(reading: EnvReading) -> Iterator[tuple[str, bool]]:
    """The carried and kept statements in file order: (source text, kept unclassified)."""
    kept = set(map(id, reading.kept))
    for statement in sorted([*reading.carried, *reading.kept], key=lambda s: s.lineno):
        yield reading.segment(statement), id(statement) in kept
