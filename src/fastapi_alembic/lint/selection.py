"""Which revisions are new: the files git says changed since a ref, and what a project's
script.py.mako imports into every revision it writes."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

from alembic.script import ScriptDirectory

from fastapi_alembic.errors import ConfigError
from fastapi_alembic.revisions import ordered


def changed_since(script: ScriptDirectory, ref: str, root: Path) -> set[str]:
    """The revisions whose files were added or changed since ``ref`` (committed or not):
    since the commit the current branch forked from ``ref``, so a branch behind ``ref``
    is not charged with what others changed there."""
    top = Path(_git(root, ["rev-parse", "--show-toplevel"], f"{root} is not in a git repository"))
    if not _git_ok(root, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"]):
        raise ConfigError(
            f"--since-git {ref!r} is not a commit git knows in {top}: fetch it first (in CI, "
            "check out with the history, e.g. fetch-depth: 0) or name another ref."
        )
    base = _git_output(root, ["merge-base", ref, "HEAD"]) or ref
    listed = _git(root, ["diff", "--name-only", "--no-renames", "--diff-filter=d", base, "--"], "")
    untracked = _git(root, ["ls-files", "--others", "--exclude-standard", "--full-name"], "")
    changed = {(top / name).resolve() for name in (listed + "\n" + untracked).splitlines() if name}
    return {s.revision for s in ordered(script) if Path(s.path).resolve() in changed}


def _git(root: Path, arguments: list[str], not_a_repository: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *arguments], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise ConfigError("--since-git needs git, which is not installed here.") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["git failed"])[-1]
        raise ConfigError(
            f"--since-git: {not_a_repository or 'git ' + arguments[0] + ' failed'} ({reason})."
        )
    return done.stdout.strip()


def _git_ok(root: Path, arguments: list[str]) -> bool:
    return (
        subprocess.run(
            ["git", "-C", str(root), *arguments], capture_output=True, check=False
        ).returncode
        == 0
    )


def _git_output(root: Path, arguments: list[str]) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(root), *arguments], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None if done.returncode == 0 else None


_IMPORT_LINE = re.compile(r"^\s*(import|from)\s+[\w.]+", re.MULTILINE)


def template_imports(path: Path) -> frozenset[str]:
    """The modules script.py.mako imports into every revision (its plain import lines)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return frozenset()
    found: set[str] = set()
    for line in text.splitlines():
        if not _IMPORT_LINE.match(line) or "${" in line:
            continue
        try:
            tree = ast.parse(line.strip())
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return frozenset(found)
