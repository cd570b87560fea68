"""A generated revision file laid out so that ``ruff check`` and ``ruff format --check`` pass
with default settings.

Our script.py.mako hands its whole output to :func:`ruff_clean` (a Mako block filter), so
`fastapi-alembic make`, `merge` and plain `alembic revision` on a folder `init` made all write
the same tidy file: the operations autogenerate rendered are laid out as Ruff lays them out
(see pretty.py), blank lines follow its rules, and the imports a revision does not use are left
out (ruff check's F401). An empty revision, written to be filled in by hand, keeps ``op`` and
``sa`` imported with ``# noqa: F401``. A statement this module cannot lay out is kept as it was
rendered; text that does not parse is returned unchanged (Alembic then reports it).
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize

from fastapi_alembic.autogen.pretty import INDENT, LINE_LENGTH, Unsupported, expression, render
from fastapi_alembic.autogen.pretty import Text as _Text

#: Imports an empty revision keeps for the code written into it by hand.
_KEPT_WHEN_EMPTY = {"sa", "op"}


def ruff_clean(source: str) -> str:
    """``source`` (a rendered revision file) laid out as Ruff would."""
    try:
        module = ast.parse(source)
    except SyntaxError:
        return source
    try:
        laid_out = _Module(source, module).text()
        # The same program, less the unused imports and placeholder passes, or nothing changes.
        if _program(ast.parse(laid_out)) == _program(module):
            return laid_out
    except Exception:  # a layout bug must never cost the user the revision: keep it as rendered
        pass
    return source


def _program(module: ast.Module) -> str:
    """What the module does, less its imports and the passes beside other statements (the
    two things the layout may leave out)."""

    def kept(body: list[ast.stmt]) -> list[ast.stmt]:
        return [s for s in body if not (isinstance(s, ast.Pass) and len(body) > 1)]

    copy = ast.parse(ast.unparse(module))
    copy.body = [s for s in copy.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    for node in ast.walk(copy):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, name, kept(block))
    return ast.dump(copy)


class _Module:
    def __init__(self, source: str, module: ast.Module) -> None:
        self.lines = source.splitlines()
        self.module = module
        self.commented = _commented_lines(source)
        self.unused = _unused_imports(module)
        self.empty = _is_empty_revision(module)
        self.out: list[str] = []
        self.blanks = 0  # empty lines seen since the last item written

    def text(self) -> str:
        self._block(self.module.body, 0, len(self.lines) + 1)
        while self.out and not self.out[-1]:
            self.out.pop()
        return "\n".join(self.out) + "\n"

    # -- blocks and the lines between statements -----------------------------------------

    def _block(
        self,
        statements: list[ast.stmt],
        depth: int,
        limit: int,
        *,
        header: int = 0,
        in_def: bool = False,
    ) -> int:
        """Write ``statements`` (one block at ``depth``, below the header on line ``header``)
        and the comments around them, up to line ``limit``; return the last line written."""
        last = header
        previous: ast.stmt | str | None = None
        index = 0
        while index < len(statements):
            statement = statements[index]
            previous = self._gap(last, _first_line(statement) - 1, depth, previous, in_def)
            run = self._import_run(statements, index) if depth == 0 else []
            if run:  # the import block, sorted, without what the file does not use
                lines = self._import_lines(run)
                if lines:
                    self._blank_lines(previous, statement, depth, in_def)
                    self.out.extend(lines)
                    previous = run[-1]
                last = run[-1].end_lineno or run[-1].lineno
                index += len(run)
                continue
            index += 1
            following = statements[index].lineno if index < len(statements) else limit
            if isinstance(statement, ast.Pass) and len(statements) > 1:
                # A renderer's placeholder beside real statements (ruff check's PIE790).
                last = statement.end_lineno or statement.lineno
                continue
            self._blank_lines(previous, statement, depth, in_def)
            last = self._statement(statement, depth, following)
            previous = statement
        if depth == 0:
            self._gap(last, len(self.lines), depth, previous, in_def)
            return len(self.lines)
        if depth:
            # Comments after the block's last statement that are indented as its body belong
            # to it.
            indent = _indentation(self.lines[statements[0].lineno - 1])
            end = last
            for number in range(last + 1, limit):
                line = self.lines[number - 1]
                if line.strip() and _indentation(line) < indent:
                    break
                if line.strip():
                    end = number
            self._gap(last, end, depth, previous, in_def)
            last = end
        return last

    def _gap(
        self, after: int, before: int, depth: int, previous: ast.stmt | str | None, in_def: bool
    ) -> ast.stmt | str | None:
        """The comments between two statements (lines after..before); returns what was
        written last. Blank lines before the next statement are counted in self.blanks."""
        self.blanks = 0
        for number in range(after + 1, before + 1):
            line = self.lines[number - 1].strip()
            if not line:
                self.blanks += 1
                continue
            self._blank_lines(previous, line, depth, in_def)
            self.out.append(" " * (depth * INDENT) + _comment(line))
            previous = line
            self.blanks = 0
        return previous

    def _blank_lines(
        self, previous: ast.stmt | str | None, following: ast.stmt | str, depth: int, in_def: bool
    ) -> None:
        """The empty lines Ruff keeps (or puts) between two items: statements or comments."""
        blanks = self.blanks
        self.blanks = 0
        if not self.out:
            return
        if depth:
            wanted = (min(blanks, 1) if in_def else 0) if previous is None else min(blanks, 1)
        elif previous is None:
            wanted = 0
        elif _is_docstring(previous, self.module):
            wanted = 2 if _is_definition(following) else 1
        elif _is_definition(previous) or _is_definition(following):
            wanted = 2
        elif _is_import(previous) and not _is_import(following):
            wanted = max(1, min(blanks, 2))
        else:
            wanted = min(blanks, 2)
        self.out.extend([""] * wanted)

    # -- statements ------------------------------------------------------------------------

    def _statement(self, statement: ast.stmt, depth: int, following: int) -> int:
        """Write one statement; return its last source line."""
        indent = " " * (depth * INDENT)
        if isinstance(statement, ast.FunctionDef) and self._simple_header(statement):
            self.out.append(indent + self.lines[statement.lineno - 1].strip())
            return self._block(
                statement.body, depth + 1, following, header=statement.lineno, in_def=True
            )
        if isinstance(statement, ast.With) and self._simple_header(statement):
            header = self._with_header(statement, depth)
            if header is not None:
                self.out.append(indent + header)
                return self._block(statement.body, depth + 1, following, header=statement.lineno)
        laid_out = self._simple(statement, depth)
        if laid_out is None:
            return self._verbatim(statement, depth)
        self.out.append(indent + laid_out)
        return statement.end_lineno or statement.lineno

    # -- the import block ----------------------------------------------------------------

    def _import_run(self, statements: list[ast.stmt], index: int) -> list[ast.stmt]:
        """The imports from ``index`` on, one after the other with no comment among them."""
        run: list[ast.stmt] = []
        for statement in statements[index:]:
            if not isinstance(statement, ast.Import | ast.ImportFrom):
                break
            if isinstance(statement, ast.ImportFrom) and statement.level:
                break
            run.append(statement)
        if run and self._has_comments(run[0].lineno, run[-1].end_lineno or run[-1].lineno):
            return []
        return run

    def _import_lines(self, run: list[ast.stmt]) -> list[str]:
        """The imports as isort (ruff check's I001) orders them: the standard library, then
        the rest, straight imports before from-imports; unused ones left out."""
        sections: dict[int, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
        for statement in run:
            names = self.unused.get(statement)
            if names is not None and not (self.empty and names <= _KEPT_WHEN_EMPTY):
                continue  # unused: ruff check's F401
            suffix = "  # noqa: F401" if names is not None else ""
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    line = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                    section = _section(alias.name)
                    sections.setdefault(section, ([], []))[0].append((alias.name, line + suffix))
            elif isinstance(statement, ast.ImportFrom) and statement.module:
                members = sorted(statement.names, key=_member_order)
                listed = ", ".join(
                    alias.name + (f" as {alias.asname}" if alias.asname else "")
                    for alias in members
                )
                line = f"from {statement.module} import {listed}"
                if len(line + suffix) > LINE_LENGTH:
                    return [self.lines[n - 1] for n in range(run[0].lineno, _end(run[-1]) + 1)]
                section = _section(statement.module)
                entry = (statement.module, line + suffix)
                sections.setdefault(section, ([], []))[1].append(entry)
        lines: list[str] = []
        for section in sorted(sections):
            straight, from_imports = sections[section]
            if lines:
                lines.append("")
            for _, line in sorted(straight, key=_module_order) + sorted(
                from_imports, key=_module_order
            ):
                lines.append(line)
        return lines

    def _simple(self, statement: ast.stmt, depth: int) -> str | None:
        """A one-line statement laid out, or None to keep it as written."""
        if self._has_comments(statement.lineno, statement.end_lineno or statement.lineno):
            return None
        try:
            if isinstance(statement, ast.Pass):
                return "pass"
            if isinstance(statement, ast.Expr) and not _is_docstring(statement, self.module):
                return render(expression(statement.value), depth * INDENT)
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = ast.unparse(statement.targets[0])
                return render([_Text(target + " = "), expression(statement.value)], depth * INDENT)
            if isinstance(statement, ast.AnnAssign) and statement.value is not None:
                head = f"{ast.unparse(statement.target)}: {ast.unparse(statement.annotation)} = "
                return render([_Text(head), expression(statement.value)], depth * INDENT)
        except Unsupported:
            return None
        return None

    def _with_header(self, statement: ast.With, depth: int) -> str | None:
        if len(statement.items) != 1:
            return None
        item = statement.items[0]
        try:
            doc = [_Text("with "), expression(item.context_expr)]
        except Unsupported:
            return None
        name = f" as {ast.unparse(item.optional_vars)}" if item.optional_vars else ""
        return render([*doc, _Text(name + ":")], depth * INDENT)

    def _simple_header(self, statement: ast.FunctionDef | ast.With) -> bool:
        """A header on one line, without decorators or comments, before a body below it."""
        if isinstance(statement, ast.FunctionDef) and statement.decorator_list:
            return False
        body_start = statement.body[0].lineno
        return body_start > statement.lineno and not self._has_comments(
            statement.lineno, statement.lineno
        )

    def _verbatim(self, statement: ast.stmt, depth: int, suffix: str = "") -> int:
        """The statement's lines as written (re-indented only when its depth changed, which
        never happens to what autogenerate and our template write)."""
        first, last = _first_line(statement), statement.end_lineno or statement.lineno
        shift = depth * INDENT - _indentation(self.lines[first - 1])
        docstring = _is_docstring(statement, self.module)
        for number in range(first, last + 1):
            line = self.lines[number - 1]
            if docstring or number == last:
                line = line.rstrip()
            if shift > 0 and line:
                line = " " * shift + line
            elif shift < 0 and line[:-shift].isspace():
                line = line[-shift:]
            self.out.append(line)
        self.out[-1] += suffix
        return last

    def _has_comments(self, first: int, last: int) -> bool:
        return any(first <= number <= last for number in self.commented)


def _section(module: str) -> int:
    top = module.split(".")[0]
    if top == "__future__":
        return 0
    return 1 if top in sys.stdlib_module_names else 2


def _module_order(entry: tuple[str, str]) -> tuple[str, str]:
    return entry[0].lower(), entry[1]


def _member_order(alias: ast.alias) -> tuple[int, str]:
    name = alias.name
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name.lower()


def _end(statement: ast.stmt) -> int:
    return statement.end_lineno or statement.lineno


def _commented_lines(source: str) -> set[int]:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return set()
    return {token.start[0] for token in tokens if token.type == tokenize.COMMENT}


def _unused_imports(module: ast.Module) -> dict[ast.stmt, set[str]]:
    """Top-level imports none of whose names the file uses, with the names they bind."""
    used = {node.id for node in ast.walk(module) if isinstance(node, ast.Name)}
    unused: dict[ast.stmt, set[str]] = {}
    for statement in module.body:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            bound = {
                (alias.asname or alias.name).split(".")[0]
                for alias in statement.names
                if alias.name != "*"
            }
            if bound and not bound & used:
                unused[statement] = bound
    return unused


def _is_empty_revision(module: ast.Module) -> bool:
    """Whether upgrade() and downgrade() do nothing yet (a revision to write by hand)."""
    functions = [
        statement
        for statement in module.body
        if isinstance(statement, ast.FunctionDef) and statement.name in ("upgrade", "downgrade")
    ]
    return bool(functions) and all(
        all(isinstance(body, ast.Pass) for body in function.body) for function in functions
    )


def _first_line(statement: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(statement, "decorator_list", [])
    return min([statement.lineno, *(d.lineno for d in decorators)])


def _indentation(line: str) -> int:
    return len(line) - len(line.lstrip())


def _comment(line: str) -> str:
    """A comment as Ruff writes it: a space after the hash."""
    body = line[1:]
    if body and body[0] not in " #!:":
        return "# " + body
    return line


def _is_definition(statement: ast.stmt | str | None) -> bool:
    return isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)


def _is_import(statement: ast.stmt | str | None) -> bool:
    return isinstance(statement, ast.Import | ast.ImportFrom)


def _is_docstring(statement: ast.stmt | str | None, module: ast.Module) -> bool:
    return (
        statement is not None
        and bool(module.body)
        and statement is module.body[0]
        and isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )
