"""Autogenerate on Alembic's comparison: readable operations and sane defaults comparison."""

import fastapi_migrate.autogen.defaults  # noqa: F401 - registers a comparator
from fastapi_migrate.autogen.compare import compare_server_default
from fastapi_migrate.autogen.operations import OperationInfo, describe_operations, is_narrowing
from fastapi_migrate.autogen.render import render_item

__all__ = [
    "OperationInfo",
    "compare_server_default",
    "describe_operations",
    "is_narrowing",
    "render_item",
]
