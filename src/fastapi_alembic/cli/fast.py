"""The start-up fast path: a no-op ``upgrade``, ``current`` and ``current --check`` without
Typer or Alembic.

Containers run ``fastapi-alembic upgrade`` on every start, and nearly always there is nothing to
do. Answering that from the gate (gate/head_check.py) spares the process importing Typer, Rich and
Alembic and executing every revision file. Only the plainest command lines are taken here; for
anything else (other options, --help, a database that is behind, a migrations folder the gate
cannot read statically) :func:`answer` returns None and the Typer application does the work.
Output and exit codes are the same either way.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

_BASE = "base (no revision applied)"
_VALUE_OPTIONS = ("--url", "--config", "--directory", "--metadata")


def _parse(argv: Sequence[str]) -> tuple[str, dict[str, str], bool] | None:
    """(verb, options, json) for the command lines taken here, else None."""
    if not argv:
        return None
    verb, rest = argv[0], list(argv[1:])
    options: dict[str, str] = {}
    flags: set[str] = set()
    positional: list[str] = []
    while rest:
        item = rest.pop(0)
        name, equals, value = item.partition("=")
        if name in _VALUE_OPTIONS:
            if not equals:
                if not rest:
                    return None
                value = rest.pop(0)
            if name in options:
                return None
            options[name] = value
        elif item in ("--check", "--json"):
            flags.add(item)
        elif item.startswith("-"):
            return None
        else:
            positional.append(item)
    if verb == "upgrade" and positional in ([], ["head"]) and not flags:
        return "upgrade", options, False
    if verb == "current" and not positional and "--check" in flags:
        return "current --check", options, "--json" in flags
    if verb == "current" and not positional and not flags:
        return "current", options, False
    return None


def answer(argv: Sequence[str]) -> int | None:
    """The exit code when the fast path answered, None when the full command must run."""
    parsed = _parse(argv)
    if parsed is None:
        return None
    verb, options, as_json = parsed
    if verb == "upgrade":
        # First without SQLAlchemy: the common case, a database already at head.
        from fastapi_alembic.gate.probe import read_position

        position = read_position(options)
        if position is not None and position.at_head:
            print(f"Nothing to upgrade: the database is at {', '.join(position.current)}.")
            return 0
        if position is not None:
            return None  # read, and behind (or elsewhere): the full command, not asked again
    from fastapi_alembic.config import load_settings
    from fastapi_alembic.errors import MigrationsError
    from fastapi_alembic.gate.head_check import Position, alembic_ini_options, fast_head_check
    from fastapi_alembic.urls import mask_text

    try:
        settings = load_settings(
            url=options.get("--url"),
            directory=options.get("--directory"),
            config_path=options.get("--config"),
        )
        check = fast_head_check(settings, alembic_ini_options(settings.root))
    except MigrationsError as error:
        if as_json or verb == "current":
            return None  # the full command reports errors its own way
        print(f"Error: {mask_text(str(error))}", file=sys.stderr)
        return error.exit_code
    if check is None:
        return None
    if verb == "upgrade":
        if not check.at_head or len(check.heads) > 1:
            return None
        where = ", ".join(check.current) or _BASE
        print(f"Nothing to upgrade: the database is at {where}.")
        return 0
    if verb == "current":
        # As the full command prints it, for the cases where the two cannot differ: one row in
        # the version table (several rows could come back in another order) that the files have.
        if len(check.current) > 1 or check.position is Position.UNKNOWN:
            return None
        print(", ".join(f"{r} (head)" if r in check.heads else r for r in check.current) or _BASE)
        return 0
    if as_json:
        print(mask_text(json.dumps(check.to_dict(), indent=2)))
    else:
        print(check.sentence)
    return check.exit_code
