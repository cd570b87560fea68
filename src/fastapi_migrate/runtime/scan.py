"""Reading the revision graph without executing the revision files.

Alembic learns a file's ``revision``, ``down_revision``, ``depends_on`` and ``branch_labels`` by
importing it, which for a long history is most of the cost of asking "is the database at head?".
Here each file is parsed instead, and the four names are taken only when they are plain literals
assigned at module level. Whenever the reading could differ from what importing the file would
give (a computed value, a name bound twice in a branch, ``globals()``, a file Alembic would read
in a way we do not follow) the scan answers ``None`` and the caller asks Alembic.

The parsed headers are cached in the migrations folder's ``__pycache__``, keyed by each file's
name, size and modification time, so a start-up with unchanged files parses nothing.

This module imports neither Alembic nor SQLAlchemy: it is on the start-up path.
"""

from __future__ import annotations

import ast
import hashlib
import marshal
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from configparser import Error as ConfigParserError
from configparser import RawConfigParser
from dataclasses import dataclass
from pathlib import Path
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
#: Alembic settings under which its file discovery differs from "every *.py in versions/".
_UNSUPPORTED_OPTIONS = ("version_locations", "recursive_version_locations", "sourceless")
#: A file modified this recently may change again within the same mtime tick: not cached.
_RACY_SECONDS = 2.0
_CACHE_NAME = "fastapi_migrate_revisions.marshal"
#: marshal's format belongs to one Python version: a cache from another is ignored.
_CACHE_VERSION = (2, sys.version_info[:2])


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


_MEMO: dict[tuple[str, Path], tuple[tuple[int, int] | None, Any]] = {}


def _memo_by_stat(kind: str, path: Path, read: Callable[[], Any]) -> Any:
    """``read()``, remembered while ``path``'s size and mtime stay the same."""
    try:
        stat = path.stat()
        key: tuple[int, int] | None = (stat.st_size, stat.st_mtime_ns)
    except OSError:
        key = None
    known = _MEMO.get((kind, path))
    if known is not None and known[0] == key and key is not None:
        return known[1]
    value = read()
    _MEMO[(kind, path)] = (key, value)
    return value


def alembic_ini_options(root: Path) -> dict[str, str | None]:
    """The [alembic] options of ``root``/alembic.ini that change how revision files are found
    (an unreadable file counts as "unusual": the gate then leaves the answer to Alembic)."""
    ini = root / "alembic.ini"
    return dict(_memo_by_stat("ini", ini, lambda: _read_ini(ini)))


def _read_ini(ini: Path) -> dict[str, str | None]:
    if not ini.is_file():
        return {}
    parser = RawConfigParser()
    try:
        parser.read(ini, encoding="utf-8")
    except (ConfigParserError, OSError, UnicodeDecodeError):
        return {"sourceless": "unreadable alembic.ini"}
    if not parser.has_section("alembic"):
        return {}
    return {
        name: parser.get("alembic", name, fallback=None)
        for name in ("version_locations", "recursive_version_locations", "sourceless")
    }


def supports_options(options: dict[str, str | None]) -> bool:
    """Whether Alembic's settings leave file discovery to the default the scan follows."""
    return not any(options.get(name) not in (None, "", "false") for name in _UNSUPPORTED_OPTIONS)


def scan(directory: Path, *, use_cache: bool = True) -> StaticGraph | None:
    """Read the graph of ``directory``/versions statically; None when Alembic must be asked.

    Every file is stat'ed each time (an edit must be seen at once); a file whose name, size
    and mtime are in the cache is not read again, and when no file changed at all the graph
    itself comes from the cache.
    """
    versions = directory / "versions"
    cache_path = directory / "__pycache__" / _CACHE_NAME
    try:
        listing = list(os.scandir(versions))
    except FileNotFoundError:
        return StaticGraph(frozenset(), {}, 0)
    except OSError:
        return None
    now = time.time()
    racy_after = int((now - _RACY_SECONDS) * 1e9)
    files: list[tuple[str, int, int]] = []
    racy = False
    for entry in listing:
        name = entry.name
        # Alembic's rule (_only_source_rev_file): *.py, but not __init__* nor editor locks.
        if not name.endswith(".py") or name.startswith((".#", "__init__")):
            continue
        try:
            if not entry.is_file():
                return None  # a directory or a broken link named *.py: let Alembic decide
            stat = entry.stat()
        except OSError:
            return None
        mtime = stat.st_mtime_ns
        racy = racy or mtime > racy_after
        files.append((name, stat.st_size, mtime))
    files.sort()
    fingerprint = hashlib.sha1(repr(files).encode(), usedforsecurity=False).hexdigest()
    graph_path = cache_path.with_suffix(".graph")
    if use_cache and not racy:
        cached_graph = _read_marshal(graph_path)
        if (
            isinstance(cached_graph, tuple)
            and len(cached_graph) == 3
            and cached_graph[0] == fingerprint
            and isinstance(cached_graph[2], dict)
        ):
            return StaticGraph(frozenset(cached_graph[1]), dict(cached_graph[2]), 0)
    cached_files = _read_marshal(cache_path) if use_cache else None
    if not isinstance(cached_files, dict):
        cached_files = {}
    headers: list[Header] = []
    known: dict[str, tuple[Any, ...]] = {}
    parsed = 0
    for name, size, mtime in files:
        hit = cached_files.get(name)
        header = None
        if isinstance(hit, tuple) and len(hit) == 3 and hit[:2] == (size, mtime):
            header = _header_from_tuple(hit[2])
        if header is None:
            try:
                source = (versions / name).read_bytes()
            except OSError:
                return None
            parsed += 1
            header = read_header(source)
            if header is None:
                return None
        headers.append(header)
        if now - mtime / 1e9 > _RACY_SECONDS:
            known[name] = (size, mtime, header.to_tuple())
    graph = graph_of(headers, parsed)
    if graph is not None and use_cache:
        if parsed or set(known) != set(cached_files):
            _write_marshal(cache_path, known)
        if not racy:
            _write_marshal(graph_path, (fingerprint, tuple(graph.heads), graph.stands_on))
    return graph


def _header_from_tuple(data: Any) -> Header | None:
    try:
        revision, down, depends, labels = data
        return Header(str(revision), tuple(down), tuple(depends), tuple(labels))
    except (TypeError, ValueError):
        return None


def _read_marshal(path: Path) -> Any:
    """What a cache file holds; None when it is missing, from another Python, or damaged."""
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(data, tuple) or len(data) != 2 or data[0] != _CACHE_VERSION:
        return None
    return data[1]


def _write_marshal(path: Path, value: Any) -> None:
    """Write the whole cache to a new file and rename it over the old: readers never see half
    a file, and of two concurrent writers the last rename wins with a complete cache."""
    try:
        path.parent.mkdir(exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".scan-", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(marshal.dumps((_CACHE_VERSION, value)))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a read-only folder (a container image): the scan still works, uncached


def env_version_table(directory: Path) -> tuple[str, str | None] | None:
    """The version table and schema a generated env.py passes to ``run_migrations``.

    None when env.py configures Alembic in a way not read here (its own ``context.configure``,
    computed options): then only running env.py can tell.
    """
    env = directory / "env.py"
    found: tuple[str, str | None] | None = _memo_by_stat("env", env, lambda: _read_env(env))
    return found


def _read_env(env: Path) -> tuple[str, str | None] | None:
    """The version table and schema a generated env.py passes to ``run_migrations``.

    None when env.py configures Alembic in a way not read here (its own ``context.configure``,
    computed options): then only running env.py can tell.
    """
    try:
        tree = ast.parse(env.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "run_migrations")
            or (isinstance(node.func, ast.Attribute) and node.func.attr in ("run_migrations", "configure"))
        )
    ]  # fmt: skip
    if len(calls) != 1 or isinstance(calls[0].func, ast.Attribute):
        return None  # context.configure / context.run_migrations: a hand-written env.py
    options: dict[str, Any] = {}
    for keyword in calls[0].keywords:
        if keyword.arg is None:
            return None  # **options
        if keyword.arg in ("version_table", "version_table_schema"):
            try:
                options[keyword.arg] = ast.literal_eval(keyword.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return None
    table = options.get("version_table", "alembic_version")
    schema = options.get("version_table_schema")
    if not isinstance(table, str) or not (schema is None or isinstance(schema, str)):
        return None
    return table, schema
