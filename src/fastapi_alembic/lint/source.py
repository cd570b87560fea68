"""What lint reads from a revision file's text: its silences (comments) and its imports."""

from __future__ import annotations

import ast
import io
import tokenize

from fastapi_alembic.lint.context import Silence

MARKER = "fastapi-alembic:"


def silences(source: str) -> tuple[Silence, ...]:
    """``# fastapi-alembic: allow <rule>[, <rule>] -- <why>`` comments, from the tokenizer."""
    found: list[Silence] = []
    if MARKER not in source.lower():
        return ()  # most files have none: skip the tokenizer
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return ()
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        body = token.string.lstrip("#").strip()
        if not body.lower().startswith(MARKER):
            continue
        directive = body[len(MARKER) :].strip()
        verb, _, rest = directive.partition(" ")
        if verb.lower() != "allow":
            continue
        names, _, reason = rest.partition("--")
        rules = tuple(n for n in names.replace(",", " ").split() if n)
        reason = reason.strip()
        if reason.startswith("<") and reason.endswith(">"):
            reason = ""  # the placeholder of lint's own advice, pasted as it was
        found.append(Silence(rules, reason, token.start[0]))
    return tuple(found)


def imports(source: str, mentioning: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """The modules the file imports (anywhere in it), with the line, among those whose name
    contains one of ``mentioning`` (a file that names none of them is not parsed at all)."""
    if not any(word in source for word in mentioning):
        return ()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ()
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, node.lineno))
    return tuple((name, line) for name, line in found if any(w in name for w in mentioning))
