"""Revision ids and the files that define them: reserved ids, and finding a file by its id
without importing it."""

from __future__ import annotations

import ast
from pathlib import Path

from alembic.script import Script, ScriptDirectory

from fastapi_alembic.errors import ScriptError

#: Names Alembic gives a meaning of its own in a target (upgrade head, downgrade base).
RESERVED_IDS = frozenset({"base", "head", "heads"})
_RESERVED_CHARACTERS = ("@", ":", "+", "'", '"', "`", "/", "\\")


def reserved_id_problem(revision: object) -> str | None:
    """Why ``revision`` cannot be a revision id ("which ..."), or None when it can."""
    if not isinstance(revision, str):
        return f"is a {type(revision).__name__}, not a string"
    if not revision.strip():
        return "is empty"
    if revision.strip().lower() in RESERVED_IDS:
        return "Alembic reserves for targets (base, head, heads)"
    if revision.startswith("-"):
        return "starts with '-', read as a relative step such as -1"
    found = [c for c in _RESERVED_CHARACTERS if c in revision]
    if found:
        listed = ", ".join(repr(c) for c in found)
        return f"contains {listed}, a character targets or file paths give a meaning to"
    return None


def reserved_sentence(where: object, revision: object) -> str:
    problem = reserved_id_problem(revision) or "contains '-', read as a relative step"
    return (
        f"The migration file {where} has revision = {revision!r}, which {problem}: give it "
        "an id of letters, digits and underscores (make writes 12 hex digits) and update the "
        "down_revision that names it."
    )


def defining_file(script: ScriptDirectory, revision: str, directory: Path) -> Path:
    files = files_defining(script, revision)
    return files[0] if files else directory / "versions"


def refuse_reserved_ids(script: ScriptDirectory, directory: Path) -> None:
    """Refuse a revision whose id Alembic would misread as a target (base, head, heads), or
    that is empty, or holds a character with a meaning of its own in targets or paths."""
    seen: set[int] = set()
    for found in script.revision_map._revision_map.values():
        if not isinstance(found, Script) or id(found) in seen:
            continue
        seen.add(id(found))
        if reserved_id_problem(found.revision) is not None:
            raise ScriptError(reserved_sentence(found.path, found.revision))


def files_defining(script: ScriptDirectory, revision: str) -> list[Path]:
    """The revision files whose ``revision = ...`` is ``revision``, read without importing."""
    found: list[Path] = []
    for location in script._version_locations:
        folder = Path(location)
        paths = folder.rglob("*.py") if script.recursive_version_locations else folder.glob("*.py")
        for path in sorted(paths):
            try:
                text = path.read_text(encoding="utf-8")
                if revision not in text:
                    continue
                tree = ast.parse(text)
            except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
                continue
            if any(_assigns_revision(node, revision) for node in tree.body):
                found.append(path)
    return found


def _assigns_revision(node: ast.stmt, revision: str) -> bool:
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return False
    return (
        any(isinstance(t, ast.Name) and t.id == "revision" for t in targets)
        and isinstance(value, ast.Constant)
        and value.value == revision
    )
