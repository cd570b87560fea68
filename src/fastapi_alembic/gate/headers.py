"""What Alembic's revision map needs from each revision file, read without executing it.

Alembic learns a file's ``revision``, ``down_revision``, ``depends_on`` and ``branch_labels`` by
importing it. Here each file is parsed instead, and the four names are taken only when they are
literals assigned at module level (annotated or not). Whenever the reading could differ from
what importing the file would give (a computed value, a name bound in a branch, ``globals()`` or
``setattr`` in code run on import) the answer says why, and the caller asks Alembic. :func:`graph_of` then builds the graph the way Alembic's
RevisionMap would, or answers None where Alembic would refuse or warn.

This module imports neither Alembic nor SQLAlchemy: it is on the start-up path.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: The names Alembic reads from a revision module.
_NAMES = ("revision", "down_revision", "depends_on", "branch_labels")
#: Characters Alembic refuses in a revision id (RevisionMap.verify_rev_id).
_ILLEGAL = frozenset("@-+:")
#: Builtins through which code run on import can bind module names a static read does not see.
_DYNAMIC = frozenset(
    {"globals", "locals", "vars", "setattr", "delattr", "exec", "eval", "__import__"}
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
    found = header_or_reason(source)
    return found if isinstance(found, Header) else None


def header_or_reason(source: bytes) -> Header | str:
    """The four names of one revision file, or why only executing it could tell them."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as error:
        return f"it does not parse ({error.__class__.__name__}: {error})"
    dynamic = _dynamic_binding(tree)
    if dynamic is not None:
        return dynamic
    values: dict[str, Any] = {}
    assigned_at: dict[str, int] = {}
    star_line: int | None = None
    for index, statement in enumerate(tree.body):
        line = statement.lineno
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            named = [t for t in targets if isinstance(t, ast.Name) and t.id in _NAMES]
            if not named:
                if any(_binds_ours(t) for t in targets):
                    return f"line {line} binds one of {', '.join(_NAMES)} by unpacking"
                continue
            if statement.value is None:
                continue  # a bare annotation binds nothing
            if len(targets) != 1:
                return f"line {line} assigns {named[0].id} and another name at once"
            try:
                values[named[0].id] = ast.literal_eval(statement.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return f"line {line} gives {named[0].id} a computed value, not a literal"
            assigned_at[named[0].id] = index
        elif isinstance(statement, ast.Expr | ast.Pass):
            continue
        elif isinstance(statement, ast.Import | ast.ImportFrom):
            if any(a.name == "*" for a in statement.names):
                star_line = line
                star_index = index
            elif any((a.asname or a.name.split(".")[0]) in _NAMES for a in statement.names):
                return f"line {line} imports one of {', '.join(_NAMES)}"
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if statement.name in (*_NAMES, "__getattr__"):
                return f"line {line} defines {statement.name}"
        elif _binds_ours(statement):
            return f"line {line} binds one of {', '.join(_NAMES)} in a block or loop"
    if star_line is not None:
        unsure = [n for n in _NAMES if assigned_at.get(n, -1) < star_index]
        if unsure:
            return f"line {star_line} imports * and may bind {', '.join(unsure)}"
    return _header_from(values)


def _dynamic_binding(tree: ast.Module) -> str | None:
    """Where code run on import could bind names unseen (``globals()``, ``setattr``,
    ``sys.modules``, a walrus on one of Alembic's names), or None. Function bodies count only
    when the module calls the function at import; text in strings never counts."""
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    queue: list[ast.AST] = list(tree.body)
    called: set[str] = set()
    while queue:
        node = queue.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            # The body runs when called; decorators and defaults run now.
            queue.extend(getattr(node, "decorator_list", []))
            queue.extend(node.args.defaults)
            queue.extend(d for d in node.args.kw_defaults if d is not None)
            continue
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Name) and node.id in _DYNAMIC:
            return f"line {line} uses {node.id}(), which can bind names unseen"
        if isinstance(node, ast.Attribute) and (
            node.attr == "__dict__"
            or (
                node.attr == "modules"
                and isinstance(node.value, ast.Name)
                and node.value.id == "sys"
            )
        ):
            return f"line {line} reaches a module's names through {ast.unparse(node)}"
        if isinstance(node, ast.NamedExpr) and node.target.id in _NAMES:
            return f"line {line} binds {node.target.id} with :="
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            function = functions.get(node.func.id)
            if function is not None and function.name not in called:
                called.add(function.name)
                queue.extend(function.body)
        queue.extend(ast.iter_child_nodes(node))
    return None


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


def _header_from(values: dict[str, Any]) -> Header | str:
    revision = values.get("revision")
    if not isinstance(revision, str) or not _valid_id(revision):
        # Alembic would guess from the file name, or refuse
        return f"its revision is {revision!r}, not a revision id"
    found: list[tuple[str, ...]] = []
    for name in ("down_revision", "depends_on", "branch_labels"):
        ids = _as_ids(values.get(name))
        if ids is None:
            return f"its {name} is {values.get(name)!r}, not None, an id or a tuple of ids"
        found.append(ids)
    return Header(revision, *found)


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
    found = graph_or_reason(headers, parsed)
    return found if isinstance(found, StaticGraph) else None


def graph_or_reason(headers: Iterable[Header], parsed: int = 0) -> StaticGraph | str:
    """The graph Alembic's RevisionMap would build, or why Alembic would refuse or warn."""
    by_id: dict[str, Header] = {}
    labels: dict[str, str] = {}
    for header in headers:
        if header.revision in by_id:
            # "present more than once": Alembic keeps one, we do not guess which
            return f"revision {header.revision} is in more than one file"
        by_id[header.revision] = header
    for header in by_id.values():
        for label in header.branch_labels:
            if label in labels or label in by_id:
                return f"branch label {label} names more than one revision"
            labels[label] = header.revision
    edges: dict[str, tuple[str, ...]] = {}
    parents: set[str] = set()
    for header in by_id.values():
        if header.revision in header.down_revisions or header.revision in header.depends_on:
            return f"revision {header.revision} stands on itself"
        for down in header.down_revisions:
            if down not in by_id:  # a missing parent, or a parent named by a branch label
                return f"revision {header.revision}'s down_revision {down} is not a revision id"
        resolved = []
        for dependency in header.depends_on:
            target = dependency if dependency in by_id else labels.get(dependency)
            if target is None:
                return f"revision {header.revision} depends on {dependency}, which is unknown"
            resolved.append(target)
        edges[header.revision] = (*header.down_revisions, *resolved)
        parents.update(header.down_revisions)
    if _has_cycle(edges):
        return "the revisions form a cycle"
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
