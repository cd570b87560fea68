"""Where the revision files are: where Alembic would look running this project's env.py.

alembic.ini names the folders (``version_locations``, else ``<script_location>/versions``),
but an env.py may name others itself, ``context.script.version_locations = [...]`` (one
folder per dialect, per tenant, per app), which Alembic honours for every command that runs
env.py, and for history and heads too with ``revision_environment = true``. When env.py may
do that, it is run first in offline mode and stopped at its first ``configure`` or connection
(env_runs.py): no database is touched, and the folders it set are the ones loaded.

A verb that then finds no revision while the migrations folder (or a folder env.py named)
holds revision files never reports a pass over nothing: it says what it found (exit 2).
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory

from fastapi_alembic.env_runs import DISCOVERY_KEY, env_py_may_move_versions
from fastapi_alembic.errors import ConfigError

__all__ = ["discovered_locations", "env_py_may_move_versions", "require_revisions_found"]


def discovered_locations(
    config: Config, around: AbstractContextManager[object]
) -> list[str] | None:
    """The revision folders env.py sets on ``context.script``, when they differ from
    alembic.ini's; None when env.py leaves them as they are. ``around``: what every run of
    env.py goes through (Workspace.running_env)."""
    script = ScriptDirectory.from_config(config)
    before = _locations(script)
    config.attributes[DISCOVERY_KEY] = True
    try:
        with (
            around,
            EnvironmentContext(config, script, fn=_nothing, as_sql=True, dont_mutate=True),
        ):
            script.run_env()
    finally:
        config.attributes.pop(DISCOVERY_KEY, None)
    after = _locations(script)
    return after if after != before else None


def _nothing(_revision: Any, _context: Any) -> list[Any]:
    return []


def _locations(script: ScriptDirectory) -> list[str]:
    return [str(location) for location in script.version_locations or []]


#: A module-level ``revision = "..."`` (annotated or not): what makes a file a revision.
_REVISION = re.compile(r"^revision\s*(?::[^=\n]*)?=\s*\S", re.MULTILINE)


def require_revisions_found(script: ScriptDirectory, directory: Path) -> None:
    """Refuse an empty revision graph while revision files sit where nothing looked."""
    if next(iter(script.revision_map._revision_map), None) is not None:
        return
    looked = [Path(location) for location in script._version_locations]
    found = _revision_files([directory, *looked])
    if not found:
        return
    where = ", ".join(str(folder) for folder in looked) or str(directory / "versions")
    raise ConfigError(
        f"No revision was found in {where}, yet {len(found)} revision file(s) are under "
        f"{found[0].parent if len(found) == 1 else _common(found)} (for example {found[0]}), "
        "so nothing was run or checked: Alembic loads revisions from version_locations in "
        "alembic.ini, or from the folders env.py sets on context.script.version_locations; "
        "name the folders that hold them there."
    )


def _revision_files(folders: list[Path]) -> list[Path]:
    found: dict[Path, None] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            if path.name == "env.py" or "__pycache__" in path.parts or path in found:
                continue
            try:
                if _REVISION.search(path.read_text(encoding="utf-8", errors="replace")):
                    found[path] = None
            except OSError:
                continue
    return list(found)


def _common(paths: list[Path]) -> Path:
    common = paths[0].parent
    while any(common not in path.parents for path in paths):
        common = common.parent
    return common
