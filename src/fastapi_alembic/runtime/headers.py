"""What Alembic's revision map needs from each revision file, read without executing it.

Alembic learns a file's ``revision``, ``down_revision``, ``depends_on`` and ``branch_labels`` by
importing it. Here each file is parsed instead, and the four names are taken only when they are
plain literals assigned at module level. Whenever the reading could differ from what importing
the file would give (a computed value, a name bound twice in a branch, ``globals()``) the answer
is None and the caller asks Alembic. :func:`graph_of` then builds the graph the way Alembic's
RevisionMap would, or answers None where Alembic would refuse or warn.

This module imports neither Alembic nor SQLAlchemy: it is on the start-up path.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: The names Alembic reads from a revision module.
_NAMES = ("revision", "down_revision", "depends_on", "branch_labels")
#: Characters Alembic refuses in a revision id (RevisionMap.verify_rev_id).
_ILLEGAL = frozenset("@-+:")
#: Source text that can bind module names in ways a static reading does not follow.
_DYNAMIC = re.compile(
    r"\b(?:globals|setattr|exec|eval|vars|locals|__import__)\s*\(|__dict__|sys\.modules"
    r"|__getattr__|:=|import\s+\*"
)


@dataclass(frozen=True)
class Header:
    """What Alembic's revision map needs from one file."""

    revision: str
    down_revisions: tuple[str, ...]
    depends_on: tuple[str, ...]
    branch_labels: tuple[str, ...]

    def to_tuple(self) -> tuple[Any, ...]:
        return (self.revision, self.down_revisions, self.depends_on, self.branch_labels)


@dataclass(frozen=True)
class StaticGraph:
    """The revisions of a migrations folder, read without executing them."""

    heads: frozenset[str]
    #: Each revision's parents and resolved dependencies: what it stands on.
    stands_on: dict[str, tuple[str, ...]]
    parsed: int  # files parsed this time (the others came from the cache)

    @property
    def revisions(self) -> frozenset[str]:
        return frozenset(self.stands_on)

    def pending(self, current: Iterable[str]) -> int:
        """How many revisions an upgrade to heads from ``current`` would apply."""
        done: set[str] = set()
        stack = [revision for revision in current if revision in self.stands_on]
        while stack:
            revision = stack.pop()
            if revision not in done:
                done.add(revision)
                stack.extend(self.stands_on[revision])
        return len(self.stands_on) - len(done)


def read_header(source: bytes) -> Header | None:
    """The four names of one revision file, or None when only executing it could tell."""
    text = source.decode("utf-8", errors="replace")
    if _DYNAMIC.search(text):
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    values: dict[str, Any] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            named = [t for t in targets if isinstance(t, ast.Name) and t.id in _NAMES]
            if not named:
                if any(_binds_ours(t) for t in targets):
                    return None  # a, revision = ... and the like
                continue
            if statement.value is None:
                continue  # a bare annotation binds nothing
            if len(targets) != 1:
                return None  # revision = other = ...
            try:
                values[named[0].id] = ast.literal_eval(statement.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return None
        elif isinstance(statement, ast.Expr | ast.Pass):
            continue
        elif isinstance(statement, ast.Import | ast.ImportFrom):
            if any((a.asname or a.name.split(".")[0]) in _NAMES for a in statement.names):
                return None
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if statement.name in _NAMES:
                return None
        elif _binds_ours(statement):
            return None
    return _header_from(values)


def _binds_ours(node: ast.AST) -> bool:
    """Whether anything under ``node`` binds or deletes one of Alembic's names."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and child.id in _NAMES:
            if isinstance(child.ctx, ast.Store | ast.Del):
                return True
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if child.name in _NAMES:
                return True
        elif isinstance(child, ast.Import | ast.ImportFrom):
            if any((a.asname or a.name.split(".")[0]) in _NAMES for a in child.names):
                return True
        elif isinstance(child, ast.Global | ast.Nonlocal) and set(child.names) & set(_NAMES):
            return True
    return False


def _header_from(values: dict[str, Any]) -> Header | None:
    revision = values.get("revision")
    if not isinstance(revision, str) or not _valid_id(revision):
        return None  # Alembic would guess from the file name, or refuse
    down = _as_ids(values.get("down_revision"))
    depends = _as_ids(values.get("depends_on"))
    labels = _as_ids(values.get("branch_labels"))
    if down is None or depends is None or labels is None:
        return None
    return Header(revision, down, depends, labels)


def _valid_id(value: str) -> bool:
    return bool(value) and not (_ILLEGAL & set(value))


def _as_ids(value: Any) -> tuple[str, ...] | None:
    """Alembic's util.to_tuple for the values a static read accepts; None when unsure."""
    if value is None:
        return ()
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, tuple | list):
        return None
    if not all(isinstance(item, str) and item for item in items):
        return None
    return tuple(items)


def graph_of(headers: Iterable[Header], parsed: int = 0) -> StaticGraph | None:
    """The graph Alembic's RevisionMap would build, or None where it would refuse or warn."""
    by_id: dict[str, Header] = {}
    labels: dict[str, str] = {}
    for header in headers:
        if header.revision in by_id:
            return None  # "present more than once": Alembic keeps one, we do not guess which
        by_id[header.revision] = header
    for header in by_id.values():
        for label in header.branch_labels:
            if label in labels or label in by_id:
                return None
            labels[label] = header.revision
    edges: dict[str, tuple[str, ...]] = {}
    parents: set[str] = set()
    for header in by_id.values():
        if header.revision in header.down_revisions or header.revision in header.depends_on:
            return None
        if any(down not in by_id for down in header.down_revisions):
            return None  # a missing parent, or a parent named by a branch label
        resolved = []
        for dependency in header.depends_on:
            target = dependency if dependency in by_id else labels.get(dependency)
            if target is None:
                return None
            resolved.append(target)
        edges[header.revision] = (*header.down_revisions, *resolved)
        parents.update(header.down_revisions)
    if _has_cycle(edges):
        return None
    return StaticGraph(frozenset(by_id) - parents, edges, parsed)


def _has_cycle(edges: dict[str, tuple[str, ...]]) -> bool:
    state: dict[str, int] = {}  # 1 on the path, 2 done
    for start in edges:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, index = stack[-1]
            children = edges[node]
            if index == len(children):
                stack.pop()
                state[node] = 2
                continue
            stack[-1] = (node, index + 1)
            child = children[index]
            seen = state.get(child)
            if seen == 1:
                return True
            if seen is None:
                state[child] = 1
                stack.append((child, 0))
    return False
