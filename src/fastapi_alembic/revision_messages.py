"""Revision messages: written into a revision's docstring as data, never as code.

A message is whatever the user typed (quotes, backslashes, newlines, any script). The
revision template renders it through :func:`docstring_body`, and every written revision is
read back with :func:`verify_revision_file`, so a template that pastes the message raw (one
made before this fix) can never leave a file that does not load or that runs the message.
"""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi_alembic.errors import ScriptError

# Characters kept as they are inside a triple-quoted string: printable text, newline and tab.
_KEPT_CONTROLS = {"\n", "\t"}


def clean_message(message: str) -> str:
    """``message`` as text that can be written in UTF-8 (bytes that were not valid UTF-8 on
    the command line arrive as lone surrogates and become U+FFFD), laid out as ``ruff format``
    keeps a docstring: no whitespace around it or at the end of a line, and spaces rather than
    tabs for a line's indentation."""
    text = message.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    lines = []
    for line in text.strip(" \t\n").split("\n"):
        body = line.lstrip(" \t")
        lines.append((line[: len(line) - len(body)].expandtabs(8) + body).rstrip(" \t"))
    return "\n".join(lines)


def docstring_body(message: str) -> str:
    """``message`` escaped for the inside of a ``\"\"\"...\"\"\"`` string literal: reading the
    literal back gives ``message`` exactly."""
    parts: list[str] = []
    for char in message:
        if char == "\\":
            parts.append("\\\\")
        elif char == '"':
            parts.append('\\"')
        elif char == "\r":
            parts.append("\\r")
        elif (ord(char) < 0x20 or ord(char) == 0x7F) and char not in _KEPT_CONTROLS:
            parts.append(f"\\x{ord(char):02x}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            parts.append(f"\\u{ord(char):04x}")
        else:
            parts.append(char)
    return "".join(parts)


# What a template that pastes the message raw into a docstring cannot hold.
_UNSAFE_RAW = frozenset("\"'\\\r") | {chr(c) for c in range(0x20) if chr(c) not in _KEPT_CONTROLS}


def require_template_can_hold(template: Path, message: str) -> None:
    """Refuse, before anything is written, a message the revision template would paste in as
    code: Alembic imports each revision right after writing it."""
    try:
        text = template.read_text(encoding="utf-8")
    except OSError:
        return  # Alembic says what is wrong with a missing template
    if "docstring_body" in text or not _UNSAFE_RAW.intersection(message):
        return
    raise _unsafe_template(template)


def _unsafe_template(template: Path) -> ScriptError:
    return ScriptError(
        f"The revision template {template} cannot hold this message (it writes the message "
        "into the file unescaped), so no revision was written: run `fastapi-alembic init "
        "--force` to update the template, or use a message without quotes, backslashes or "
        "control characters."
    )


def verify_revision_file(path: Path, message: str, template: Path) -> None:
    """Refuse (and delete) a just-written revision that does not parse, or whose docstring
    does not begin with ``message``: its template pasted the message in as code."""
    source = path.read_text(encoding="utf-8")
    try:
        docstring = ast.get_docstring(ast.parse(source, str(path)), clean=False)
    except (SyntaxError, ValueError):
        docstring = None
    if docstring is not None and docstring.startswith(message):
        return
    path.unlink(missing_ok=True)
    raise _unsafe_template(template)
