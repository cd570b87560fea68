"""The new env.py adopt writes: the carried definitions verbatim, the on_connect hook, then
one run_migrations call (inside the context variables the old env.py set for the run)."""

from __future__ import annotations

import ast
import itertools
import re

from fastapi_alembic.adoption.reading import CannotAdopt, EnvReading, iter_statements

HEADER = '''"""Alembic environment, wired by FastAPI-Alembic (`fastapi-alembic adopt`).

The project's own env.py is kept as {backup}: the options it gave Alembic are passed to
run_migrations below. FastAPI-Alembic's commands run on the database they are given (--url,
DATABASE_URL); plain `alembic upgrade head` works here too.
"""

from fastapi_alembic.env import run_migrations
'''
KEPT_COMMENT = (
    "# Kept as it was in the old env.py: adopt cannot tell whether this is only set-up, so it\n"
    "# still runs whenever Alembic loads this file."
)


def render_env(reading: EnvReading, backup: str, metadata_in_call: bool) -> str:
    """The new env.py: the carried definitions verbatim, then one run_migrations call."""
    parts: list[str] = [HEADER.format(backup=backup)]
    previous_import = False
    for text, kept in iter_statements(reading):
        is_import = bool(re.match(r"(from|import)\s", text)) and not kept
        block = f"{KEPT_COMMENT}\n{text}" if kept else text
        if is_import and previous_import:
            parts[-1] += "\n" + block
        else:
            parts.append(block)
        previous_import = is_import
    arguments: list[str] = []
    if metadata_in_call and reading.metadata is not None:
        arguments.append(f"target_metadata={reading.metadata}")
    arguments += [f"{name}={value}" for name, value in reading.options.items()]
    arguments += [f"**{splat}" for splat in reading.splats]
    if reading.url is not None:
        arguments.append(f"url={_lazy(reading.url)}")
    if reading.hook:
        hook = _free_name(reading, "on_connect")
        parts.append(_hook(reading, hook))
        arguments.append(f"on_connect={hook}")
    if reading.offline_only:
        arguments += [
            "# The old env.py gave these only to offline (--sql) runs; uncomment to keep",
            "# them for every run:",
            *(f"# {option}," for option in reading.offline_only),
        ]
    call = (
        "run_migrations(\n"
        + "".join(f"    {a}\n" if a.startswith("#") else f"    {a},\n" for a in arguments)
        + ")"
        if arguments
        else "run_migrations()"
    )
    parts.append(_around(reading, call))
    text = parts[0].rstrip("\n")
    for before, part in itertools.pairwise(parts):
        definition = re.compile(r"(#[^\n]*\n)*(@|def |async def |class )")
        wide = definition.match(before) or definition.match(part)
        text += ("\n\n\n" if wide else "\n\n") + part.rstrip("\n")
    text += "\n"
    try:
        ast.parse(text)
    except SyntaxError as error:  # pragma: no cover - a reading we did not foresee
        raise CannotAdopt(
            f"adopt could not rewrite {reading.path} into valid Python ({error.msg} at line "
            f"{error.lineno}): wire it by hand (see docs/guide.md)."
        ) from None
    return text


def _lazy(expression: str) -> str:
    """``get_url()`` becomes ``get_url``; anything else a lambda, so it runs only when used."""
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_.]*)\(\)", expression.strip())
    return match.group(1) if match else f"lambda: {expression}"


def _free_name(reading: EnvReading, name: str) -> str:
    taken = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", reading.source))
    while name in taken:
        name = f"_{name}"
    return name


def _hook(reading: EnvReading, name: str) -> str:
    """The statements the old env.py ran on its connection before the migrations."""
    lines = [
        f"def {name}({reading.hook_parameter}):",
        '    """Runs on the connection before the migrations, as in the old env.py."""',
    ]
    for statement in reading.hook:
        lines += [f"    {line}" if line else "" for line in statement.splitlines()]
    return "\n".join(lines)


def _around(reading: EnvReading, call: str) -> str:
    """``call`` with the context variables the old env.py set for its run set around it."""
    if not reading.context_sets:
        return call
    opening: list[str] = []
    closing: list[str] = []
    for number, setting in enumerate(reading.context_sets):
        variable = setting.rsplit(".set(", 1)[0]
        token = _free_name(reading, f"_token_{number}")
        opening.append(f"{token} = {setting}")
        closing.insert(0, f"    {variable}.reset({token})")
    inner = "\n".join(f"    {line}" if line else "" for line in call.splitlines())
    return "\n".join([*opening, "try:", inner, "finally:", *closing])
