"""Code laid out as Ruff formats it, for the advice lint writes: strings, lists and calls that
go on one line when they fit, else one argument a line."""

from __future__ import annotations

import json
from dataclasses import dataclass

#: Ruff's (and Black's) line length, which the advice is laid out for.
WIDTH = 100


@dataclass(frozen=True)
class Call:
    """A call written as Ruff formats it: on one line when it fits, else its arguments on
    one indented line, else one argument a line with a trailing comma (nested calls alike)."""

    function: str
    arguments: tuple[str | Call, ...]
    keyword: str = ""  # written as keyword=function(...) when an argument of another call

    def flat(self) -> str:
        inner = ", ".join(a if isinstance(a, str) else a.flat() for a in self.arguments)
        return f"{self.keyword}{self.function}({inner})"

    def render(self, indent: int = 0, prefix: str = "", suffix: str = "") -> str:
        pad = " " * indent
        one_line = f"{pad}{prefix}{self.flat()}{suffix}"
        if len(one_line) <= WIDTH or not self.arguments:
            return one_line
        head = f"{pad}{prefix}{self.keyword}{self.function}("
        inner = ", ".join(a if isinstance(a, str) else a.flat() for a in self.arguments)
        if len(pad) + 4 + len(inner) <= WIDTH:
            return f"{head}\n{pad}    {inner}\n{pad}){suffix}"
        lines = [head]
        for argument in self.arguments:
            if isinstance(argument, Call):
                lines.append(argument.render(indent + 4, suffix=","))
            else:
                lines.append(f"{pad}    {argument},")
        lines.append(f"{pad}){suffix}")
        return "\n".join(lines)


def call(function: str, *arguments: str | Call, prefix: str = "", indent: int = 0) -> str:
    """``function(arguments)`` laid out as Ruff would."""
    return Call(function, arguments).render(indent, prefix)


def kw(name: str, value: str | Call) -> str | Call:
    """A keyword argument, ``name=value``."""
    if isinstance(value, Call):
        return Call(value.function, value.arguments, keyword=f"{name}=")
    return f"{name}={value}"


def py(text: str) -> str:
    """A Python string literal (double quotes, as Ruff writes them)."""
    return json.dumps(text, ensure_ascii=False)


def py_list(names: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(py(n) for n in names) + "]"
