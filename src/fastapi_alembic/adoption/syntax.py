"""Reading Python source for adopt: names, calls and what counts as env.py plumbing."""

from __future__ import annotations

import ast
import sys

#: configure() options that run_migrations decides itself (the database, offline SQL).
PLUMBING_OPTIONS = {"url", "connection", "literal_binds", "dialect_opts", "as_sql"}
#: What a migration runner may call while it connects and runs Alembic; anything else in
#: those functions is the project's own work, which adopt cannot place.
PLUMBING_CALLS = {
    "configure",
    "begin_transaction",
    "run_migrations",
    "is_offline_mode",
    "get_main_option",
    "get_section",
    "get_section_option",
    "get_x_argument",
    "engine_from_config",
    "async_engine_from_config",
    "create_engine",
    "create_async_engine",
    "connect",
    "begin",
    "dispose",
    "run_sync",
    "run",
    "NullPool",
    "set_main_option",
    "getenv",
    "get",
    "replace",
    "format",
    "str",
    "dict",
    "copy",
    "render_as_string",
    "make_url",
    "create",
    "info",
    "debug",
    "warning",
    "get_context",
    "print",
    "isinstance",
    "getattr",
    "bool",
}
#: Libraries whose unused imports are env.py plumbing: dropped. Other imports may register
#: models when imported (``import app.models``), so they are carried over.
PLUMBING_MODULES = {"alembic", "sqlalchemy", "fastapi_alembic", *sys.stdlib_module_names}
SETTING_UP_CALLS = {"fileConfig", "basicConfig", "dictConfig", "set_main_option"}


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else dotted(func) or ""


def loaded_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def bound_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [statement.name]
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in statement.names]
    if isinstance(statement, ast.Assign):  # `a.b = x` changes a, it does not define it
        return [
            n.id
            for t in statement.targets
            if isinstance(t, ast.Name | ast.Tuple)
            for n in ast.walk(t)
            if isinstance(n, ast.Name)
        ]
    if isinstance(statement, ast.AnnAssign | ast.AugAssign) and isinstance(
        statement.target, ast.Name
    ):
        return [statement.target.id]
    return []


def is_context_call(node: ast.AST, *names: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in names
        and dotted(node.func.value) == "context"
    )


def is_ini_url(node: ast.AST) -> bool:
    """``config.get_main_option("sqlalchemy.url")``: the URL alembic.ini holds."""
    return (
        isinstance(node, ast.Call)
        and callee(node) == "get_main_option"
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value == "sqlalchemy.url"
    )


def without_percent_escape(node: ast.expr) -> ast.expr:
    """``url.replace("%", "%%")`` (for set_main_option) is just ``url`` to us."""
    if (
        isinstance(node, ast.Call)
        and callee(node) == "replace"
        and isinstance(node.func, ast.Attribute)
        and [a.value for a in node.args if isinstance(a, ast.Constant)] == ["%", "%%"]
    ):
        return node.func.value
    return node


def inert(value: ast.expr) -> bool:
    """An expression with no effect: constants, names, attributes, ``context.config``,
    ``config.get_main_option(...)`` and collections of those."""
    harmless = ("get_main_option", "get_section_option", "getLogger")
    return not any(
        isinstance(node, ast.Call) and callee(node) not in harmless for node in ast.walk(value)
    )
