"""Autogenerate on Alembic's comparison: readable operations and sane defaults comparison.

Internal: nothing here is promised between releases; what users need is exported by
``fastapi_alembic`` (see docs/guide.md, "The Python API").
"""

import fastapi_alembic.autogen.defaults  # noqa: F401 - registers a comparator
from fastapi_alembic.autogen.compare import compare_server_default
from fastapi_alembic.autogen.descriptions import OperationInfo, describe_operations, is_narrowing
from fastapi_alembic.autogen.render import render_item

__all__ = [
    "OperationInfo",
    "compare_server_default",
    "describe_operations",
    "is_narrowing",
    "render_item",
]
