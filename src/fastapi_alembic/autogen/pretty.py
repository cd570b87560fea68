"""Python expressions laid out as ``ruff format`` lays them out (line length 88).

Enough of the formatter's rules for what autogenerate writes: calls, keyword arguments,
attribute access, lists, tuples, dicts and literals. A call that does not fit on its line puts
its arguments on the next line, indented, and one per line with a trailing comma when they do
not fit there either; a list, tuple or dict that does not fit has one item per line. Strings
take double quotes unless that needs more escapes. Anything else raises :class:`Unsupported`,
and the caller keeps that statement as it was written.

The layout is a small document printer in the style of Wadler's "prettier printer" (which is
also how Ruff's formatter works): a group is printed flat when it fits in what is left of the
line, up to the next line break that follows it, and broken otherwise.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

LINE_LENGTH = 88
INDENT = 4


class Unsupported(Exception):
    """An expression this module does not lay out."""


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Line:
    """Nothing (soft) or a space when flat; a new line at the current indentation when broken."""

    soft: bool = True


_ids = itertools.count()


@dataclass(frozen=True)
class Group:
    contents: Doc
    id: int = field(default_factory=lambda: next(_ids))


@dataclass(frozen=True)
class Indent:
    contents: Doc


@dataclass(frozen=True)
class IfBreak:
    """``text`` when the group ``group`` is broken (a trailing comma)."""

    group: int
    text: str


Doc = Text | Line | Group | Indent | IfBreak | list["Doc"]
_FLAT, _BREAK = False, True


def render(doc: Doc, indent: int, width: int = LINE_LENGTH) -> str:
    """``doc`` printed starting at column ``indent`` (the first line's indentation is the
    caller's to write)."""
    out: list[str] = []
    column = indent
    modes: dict[int, bool] = {}
    stack: list[tuple[int, bool, Doc]] = [(indent, _BREAK, doc)]
    while stack:
        level, mode, item = stack.pop()
        if isinstance(item, list):
            stack.extend((level, mode, child) for child in reversed(item))
        elif isinstance(item, Text):
            out.append(item.text)
            column += len(item.text)
        elif isinstance(item, Indent):
            stack.append((level + INDENT, mode, item.contents))
        elif isinstance(item, Line):
            if mode is _FLAT:
                text = "" if item.soft else " "
                out.append(text)
                column += len(text)
            else:
                out.append("\n" + " " * level)
                column = level
        elif isinstance(item, IfBreak):
            if modes.get(item.group) is _BREAK:
                out.append(item.text)
                column += len(item.text)
        else:
            flat = mode is _FLAT or _fits(item.contents, level, stack, width - column, modes)
            modes[item.id] = _FLAT if flat else _BREAK
            stack.append((level, _FLAT if flat else _BREAK, item.contents))
    return "".join(out)


def _fits(
    doc: Doc, level: int, rest: list[tuple[int, bool, Doc]], room: int, modes: dict[int, bool]
) -> bool:
    """Whether ``doc`` printed flat, and what follows it up to the next line break, fits in
    ``room`` columns."""
    pending: list[tuple[int, bool, Doc]] = [(level, _FLAT, doc)]
    rest_index = len(rest)
    while room >= 0:
        if not pending:
            if rest_index == 0:
                return True
            rest_index -= 1
            pending.append(rest[rest_index])
            continue
        level, mode, item = pending.pop()
        if isinstance(item, list):
            pending.extend((level, mode, child) for child in reversed(item))
        elif isinstance(item, Text):
            room -= len(item.text)
        elif isinstance(item, Indent):
            pending.append((level + INDENT, mode, item.contents))
        elif isinstance(item, Line):
            if mode is _BREAK:
                return True
            room -= 0 if item.soft else 1
        elif isinstance(item, IfBreak):
            if modes.get(item.group) is _BREAK:
                room -= len(item.text)
        else:
            pending.append((level, mode, item.contents))
    return False


# -- expressions -----------------------------------------------------------------------------


def expression(node: ast.expr) -> Doc:
    """The layout of ``node``, or Unsupported."""
    if isinstance(node, ast.Constant):
        return Text(literal(node.value))
    if isinstance(node, ast.Name):
        return Text(node.id)
    if isinstance(node, ast.Attribute):
        if not isinstance(node.value, ast.Name | ast.Attribute | ast.Call):
            raise Unsupported(node)
        return [expression(node.value), Text("." + node.attr)]
    if isinstance(node, ast.Call):
        return _call(node)
    if isinstance(node, ast.List):
        return _collection("[", [expression(item) for item in node.elts], "]")
    if isinstance(node, ast.Set) and node.elts:
        return _collection("{", [expression(item) for item in node.elts], "}")
    if isinstance(node, ast.Tuple):
        items = [expression(item) for item in node.elts]
        return _collection("(", items, ")", one_tuple=len(items) == 1)
    if isinstance(node, ast.Dict):
        return _collection(
            "{", [_dict_item(k, v) for k, v in zip(node.keys, node.values, strict=True)], "}"
        )
    if isinstance(node, ast.Starred):
        return [Text("*"), expression(node.value)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant | ast.Name):
        sign = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~", ast.Not: "not "}[type(node.op)]
        return [Text(sign), expression(node.operand)]
    raise Unsupported(node)


def _call(node: ast.Call) -> Doc:
    function = node.func
    if isinstance(function, ast.Attribute) and _calls_in_chain(function) > 0:
        raise Unsupported(node)  # a call chain: Ruff has a layout of its own for those
    arguments: list[tuple[tuple[int, int], Doc]] = [
        ((item.lineno, item.col_offset), expression(item)) for item in node.args
    ]
    for keyword in node.keywords:
        value = expression(keyword.value)
        name = f"{keyword.arg}=" if keyword.arg is not None else "**"
        arguments.append(((keyword.lineno, keyword.col_offset), [Text(name), value]))
    callee = expression(function)
    if not arguments:
        return [callee, Text("()")]
    if any(isinstance(item, ast.GeneratorExp) for item in node.args):
        raise Unsupported(node)
    ordered = [doc for _, doc in sorted(arguments, key=lambda pair: pair[0])]
    inner = Group([])
    inner = Group([*_joined(ordered), IfBreak(inner.id, ",")], inner.id)
    return [callee, Group([Text("("), Indent([Line(), inner]), Line(), Text(")")])]


def _calls_in_chain(node: ast.expr) -> int:
    calls = 0
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        if isinstance(node, ast.Call):
            calls += 1
            node = node.func
        else:
            node = node.value
    return calls


def _dict_item(key: ast.expr | None, value: ast.expr) -> Doc:
    if key is None:
        return [Text("**"), expression(value)]
    return [expression(key), Text(": "), expression(value)]


def _collection(opening: str, items: list[Doc], closing: str, *, one_tuple: bool = False) -> Doc:
    if not items:
        return Text(opening + closing)
    group = Group([])
    trailing: Doc = Text(",") if one_tuple else IfBreak(group.id, ",")
    body = [*_joined(items), trailing]
    return Group([Text(opening), Indent([Line(), body]), Line(), Text(closing)], group.id)


def _joined(items: list[Doc]) -> list[Doc]:
    joined: list[Doc] = []
    for index, item in enumerate(items):
        if index:
            joined += [Text(","), Line(soft=False)]
        joined.append(item)
    return joined


def literal(value: object) -> str:
    """A constant as Ruff writes it: strings in double quotes unless that needs more escapes."""
    if isinstance(value, str):
        return _quoted(list(value), lambda char: repr(char)[1:-1])
    if isinstance(value, bytes):
        return "b" + _quoted([chr(byte) for byte in value], _byte_escape)
    if value is Ellipsis:
        return "..."
    if isinstance(value, bool | int | float | complex) or value is None:
        return repr(value)
    raise Unsupported(value)


def _quoted(chars: list[str], escape: Callable[[str], str]) -> str:
    quote = '"' if chars.count('"') <= chars.count("'") else "'"
    body = []
    for char in chars:
        if char in ("\\", quote):
            body.append("\\" + char)
        elif char in ("'", '"') or (char.isprintable() and char.isascii()):
            body.append(char)
        else:
            body.append(escape(char))
    return quote + "".join(body) + quote


def _byte_escape(char: str) -> str:
    return repr(char.encode("latin-1"))[2:-1]
