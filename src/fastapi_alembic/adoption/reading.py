"""What adopt keeps from a project's env.py: the record the reader fills in, and its statements
in file order."""

from __future__ import annotations

import ast
import textwrap
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
    #: Statements from inside the runners carried at module level (guards, their functions).
    lifted: list[ast.stmt] = field(default_factory=list)
    #: The on_connect hook: its parameter (the connection's name) and its statements.
    hook_parameter: str | None = None
    hook: list[str] = field(default_factory=list)
    #: ``MODE.set(value)`` calls: the context variables set around the run.
    context_sets: list[str] = field(default_factory=list)
    #: What adopt did with the runners' own work, for the user.
    notes: list[str] = field(default_factory=list)

    def segment(self, node: ast.AST) -> str:
        """The source text of ``node``, decorators included."""
        lines = self.source.splitlines()
        start = min(
            [node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]  # type: ignore[attr-defined]
        )
        end = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        # dedented: a statement lifted out of a function is written at module level
        return textwrap.dedent("\n".join(lines[start - 1 : end]))

    def where(self, node: ast.AST) -> str:
        return f"{self.path} line {getattr(node, 'lineno', '?')}"


def iter_statements(reading: EnvReading) -> Iterator[tuple[str, bool]]:
    """The carried and kept statements in file order: (source text, kept unclassified)."""
    kept = set(map(id, reading.kept))
    statements = [*reading.carried, *reading.kept, *reading.lifted]
    for statement in sorted(statements, key=lambda s: s.lineno):
        yield reading.segment(statement), id(statement) in kept
