"""Reading a migrations folder's revision graph without executing the revision files.

Each file's header is read by headers.py. The parsed headers are cached in the
migrations folder's ``__pycache__``, keyed by each file's name, size and modification time, so a
start-up with unchanged files parses nothing; the graph itself is cached beside them with the
names, sizes and mtimes it was built from, so such a start-up does one stat per file and no more.
A file Alembic would find in a way not followed here (other version locations, sourceless
folders) makes the scan answer ``None``, and the caller asks Alembic.

This module imports neither Alembic nor SQLAlchemy: it is on the start-up path.
"""

from __future__ import annotations

import ast
import marshal
import os
import sys
import tempfile
import time
from collections.abc import Callable
from configparser import Error as ConfigParserError
from configparser import RawConfigParser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi_alembic.gate.headers import Header, StaticGraph, graph_or_reason, header_or_reason

#: Alembic settings under which its file discovery differs from "every *.py in versions/".
_UNSUPPORTED_OPTIONS = ("version_locations", "recursive_version_locations", "sourceless")
#: A file (or the folder) modified this recently may change again within the same mtime tick
#: (2 s on FAT): its size and mtime cannot vouch for it yet, so it is not cached.
_RACY_NS = 2_000_000_000
_CACHE_NAME = "fastapi_alembic_revisions.marshal"
_GRAPH_NAME = "fastapi_alembic_revisions.graph"
#: marshal's format belongs to one Python version: a cache from another is ignored.
_CACHE_VERSION = (3, sys.version_info[:2])


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
    return options_reason(options) is None


def options_reason(options: dict[str, str | None]) -> str | None:
    """Why Alembic's settings take file discovery off the path the scan follows, or None."""
    for name in _UNSUPPORTED_OPTIONS:
        value = options.get(name)
        if value not in (None, "", "false"):
            return f"alembic.ini sets {name} = {value}"
    return None


@dataclass(frozen=True)
class _Snapshot:
    """A folder's graph with what it was read from: the files' names, sizes and mtimes, and
    the folder's own mtime (None when it was too recent to vouch for the list of names)."""

    folder_mtime: int | None
    names: tuple[str, ...]
    stamps: list[int]  # size, mtime of each name, in order
    graph: StaticGraph


#: The last snapshot per versions folder in this process: a second question (a health check,
#: another lifespan) neither reads nor unpacks the cache file again. Still every file is stat'ed.
_SNAPSHOTS: dict[str, _Snapshot] = {}


def scan(directory: Path, *, use_cache: bool = True) -> StaticGraph | None:
    """Read the graph of ``directory``/versions statically; None when Alembic must be asked."""
    found = scan_or_reason(directory, use_cache=use_cache)
    return found if isinstance(found, StaticGraph) else None


def scan_or_reason(directory: Path, *, use_cache: bool = True) -> StaticGraph | str:
    """Read the graph of ``directory``/versions statically, or say why Alembic must be asked.

    Every revision file is stat'ed each time, so an edit is seen at once: an edit in place
    changes the file's size or mtime but not the folder's. The folder's own mtime only vouches
    for the list of names (adding, removing or renaming a file changes it), which saves listing
    the folder. When every name, size and mtime is the one cached, the graph comes from the
    cache; otherwise only the files whose size or mtime changed are parsed again.
    """
    versions = os.path.join(directory, "versions")
    try:
        folder_mtime = os.stat(versions).st_mtime_ns
    except FileNotFoundError:
        return StaticGraph(frozenset(), {}, 0)
    except OSError as error:
        return f"{versions} cannot be read ({error.strerror})"
    racy_after = time.time_ns() - _RACY_NS
    if use_cache:
        known = _SNAPSHOTS.get(versions) or _load_snapshot(directory)
        if known is not None:
            same_names = known.folder_mtime == folder_mtime and folder_mtime <= racy_after
            names = known.names if same_names else _revision_names(versions)
            if names == known.names and _stamps(versions, names) == known.stamps:
                _SNAPSHOTS[versions] = known
                return known.graph
    return _scan_files(directory, versions, folder_mtime, racy_after, use_cache)


def _revision_names(versions: str) -> tuple[str, ...] | None:
    """The names Alembic reads as revision files (_only_source_rev_file: *.py, but not
    __init__* nor editor locks), sorted; None when the folder cannot be listed."""
    try:
        listing = os.listdir(versions)
    except OSError:
        return None
    return tuple(
        sorted(n for n in listing if n.endswith(".py") and not n.startswith((".#", "__init__")))
    )


def _stamps(versions: str, names: tuple[str, ...] | None) -> list[int] | None:
    """Each file's size and mtime, flat; None when one is gone or unreadable.

    This is the warm path's whole cost (one stat per file), so it stays a plain loop over
    strings with the folder opened once: no Path objects, no tuples per file."""
    if names is None:
        return None
    stamps: list[int] = []
    add = stamps.append
    stat = os.stat
    try:
        folder = os.open(versions, os.O_RDONLY)
    except OSError:
        return None
    try:
        for name in names:
            result = stat(name, dir_fd=folder)
            add(result.st_size)
            add(result.st_mtime_ns)
    except OSError:
        return None
    finally:
        os.close(folder)
    return stamps


def _scan_files(
    directory: Path, versions: str, folder_mtime: int, racy_after: int, use_cache: bool
) -> StaticGraph | str:
    """The cold path: list the folder, parse the files the per-file cache does not know."""
    cache_path = Path(directory) / "__pycache__" / _CACHE_NAME
    try:
        listing = list(os.scandir(versions))
    except OSError as error:
        return f"{versions} cannot be listed ({error.strerror})"
    files: list[tuple[str, int, int]] = []
    racy = folder_mtime > racy_after
    for entry in listing:
        name = entry.name
        if not name.endswith(".py") or name.startswith((".#", "__init__")):
            continue
        try:
            if not entry.is_file():
                # a directory or a broken link named *.py: let Alembic decide
                return f"{entry.path} is not a file"
            stat = entry.stat()
        except OSError as error:
            return f"{entry.path} cannot be read ({error.strerror})"
        racy = racy or stat.st_mtime_ns > racy_after
        files.append((name, stat.st_size, stat.st_mtime_ns))
    files.sort()
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
            path = os.path.join(versions, name)
            try:
                with open(path, "rb") as stream:
                    source = stream.read()
            except OSError as error:
                return f"{path} cannot be read ({error.strerror})"
            parsed += 1
            found = header_or_reason(source)
            if isinstance(found, str):
                return f"{path}: {found}"
            header = found
        headers.append(header)
        if mtime <= racy_after:
            known[name] = (size, mtime, header.to_tuple())
    graph = graph_or_reason(headers, parsed)
    if isinstance(graph, str):
        return f"in {versions}, {graph}"
    if use_cache:
        if parsed or set(known) != set(cached_files):
            _write_marshal(cache_path, known)
        if not racy:
            names = tuple(name for name, _, _ in files)
            stamps = [value for _, size, mtime in files for value in (size, mtime)]
            unparsed = StaticGraph(graph.heads, graph.stands_on, 0)  # as a later call sees it
            snapshot = _Snapshot(folder_mtime, names, stamps, unparsed)
            _SNAPSHOTS[versions] = snapshot
            _write_marshal(
                cache_path.with_suffix(".graph"),
                (folder_mtime, names, stamps, tuple(graph.heads), graph.stands_on),
            )
    return graph


def _load_snapshot(directory: Path) -> _Snapshot | None:
    data = _read_marshal(Path(directory) / "__pycache__" / _GRAPH_NAME)
    if not isinstance(data, tuple) or len(data) != 5:
        return None
    folder_mtime, names, stamps, heads, stands_on = data
    if not (
        isinstance(folder_mtime, int)
        and isinstance(names, tuple)
        and isinstance(stamps, list)
        and isinstance(heads, tuple)
        and isinstance(stands_on, dict)
    ):
        return None
    return _Snapshot(folder_mtime, names, stamps, StaticGraph(frozenset(heads), stands_on, 0))


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
    found = env_version_table_or_reason(directory)
    return None if isinstance(found, str) else found


def env_version_table_or_reason(directory: Path) -> tuple[str, str | None] | str:
    """The version table and schema a generated env.py passes to ``run_migrations``, or why
    only running env.py can tell."""
    env = directory / "env.py"
    found: tuple[str, str | None] | str = _memo_by_stat("env", env, lambda: _read_env(env))
    return found


def _read_env(env: Path) -> tuple[str, str | None] | str:
    try:
        tree = ast.parse(env.read_bytes())
    except OSError as error:
        return f"{env} cannot be read ({error.strerror})"
    except (SyntaxError, ValueError) as error:
        return f"{env} does not parse ({error})"
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "run_migrations")
            or (isinstance(node.func, ast.Attribute) and node.func.attr in ("run_migrations", "configure"))
        )
    ]  # fmt: skip
    if not calls:
        return f"{env} calls neither run_migrations() nor context.configure()"
    if len(calls) != 1 or isinstance(calls[0].func, ast.Attribute):
        # context.configure / context.run_migrations: a hand-written env.py
        line = next(c.lineno for c in calls if isinstance(c.func, ast.Attribute))
        return (
            f"{env} configures Alembic itself (line {line}), so only running it tells the "
            "version table"
        )
    options: dict[str, Any] = {}
    for keyword in calls[0].keywords:
        if keyword.arg is None:
            return f"{env} passes **options to run_migrations() (line {keyword.lineno})"
        if keyword.arg == "on_connect":
            return (
                f"{env} runs on_connect on the connection first (line {keyword.lineno}), "
                "which may change where the version table is read"
            )
        if keyword.arg in ("version_table", "version_table_schema"):
            try:
                options[keyword.arg] = ast.literal_eval(keyword.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return f"{env} computes {keyword.arg} (line {keyword.lineno})"
    table = options.get("version_table", "alembic_version")
    schema = options.get("version_table_schema")
    if not isinstance(table, str) or not (schema is None or isinstance(schema, str)):
        return f"{env} gives version_table or version_table_schema a value that is not a name"
    return table, schema
