"""How autogenerate writes server defaults into a revision file.

Left to itself, Alembic compiles an expression default with the dialect at hand, so
``server_default=func.now()`` becomes ``sa.text("(CURRENT_TIMESTAMP)")`` when the revision
is made against SQLite, and ``sa.false()`` becomes ``sa.text("0")``, which PostgreSQL rejects
for a boolean. Writing the call itself keeps a revision valid on every backend.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import DefaultClause
from sqlalchemy.sql.elements import False_, True_
from sqlalchemy.sql.functions import FunctionElement

from fastapi_alembic.autogen.enums import render_enum_type
from fastapi_alembic.dialects import for_backend


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Alembic's ``render_item`` hook; False leaves the item to Alembic."""
    # Alembic leaves the dialect out when rendering without a migration context.
    dialect = getattr(autogen_context, "dialect", None)
    if type_ == "type":
        if dialect is not None and for_backend(dialect.name).native_enum_types:
            return render_enum_type(obj, autogen_context) or False
        return False
    if type_ != "server_default" or not isinstance(obj, DefaultClause):
        return False
    prefix = autogen_context.opts.get("sqlalchemy_module_prefix") or "sa."
    expression = obj.arg
    if isinstance(expression, True_ | False_):
        return f"{prefix}{'true' if isinstance(expression, True_) else 'false'}()"
    if isinstance(expression, FunctionElement) and not list(expression.clauses):
        name = getattr(expression, "name", None)
        if isinstance(name, str) and name.isidentifier():
            return f"{prefix}func.{name}()"
    return False
