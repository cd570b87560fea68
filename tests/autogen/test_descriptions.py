"""The operations `make` describes (autogen/descriptions.py): type narrowing, destructive first."""

from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, Float, Integer, Numeric, SmallInteger, String, Text

from fastapi_alembic.autogen import describe_operations, is_narrowing


@pytest.mark.parametrize(
    ("old", "new", "narrowing"),
    [
        (String(100), String(50), True),
        (String(50), String(100), False),
        (Text(), String(20), True),
        (String(20), Text(), False),
        (BigInteger(), Integer(), True),
        (SmallInteger(), BigInteger(), False),
        (Numeric(10, 2), Numeric(8, 2), True),
        (Numeric(10, 2), Numeric(12, 4), False),
        (Float(), Numeric(10, 2), True),
        (Integer(), String(20), False),
        (String(20), Integer(), True),
    ],
)
def test_is_narrowing(old: object, new: object, narrowing: bool) -> None:
    assert is_narrowing(old, new) is narrowing  # type: ignore[arg-type]


def test_destructive_operations_come_first() -> None:
    from alembic.operations import ops
    from sqlalchemy import Column

    upgrade = ops.UpgradeOps(
        ops=[
            ops.AddColumnOp("users", Column("phone", String(20))),
            ops.ModifyTableOps("posts", [ops.DropColumnOp("posts", "body")]),
            ops.DropTableOp("legacy"),
        ]
    )
    described = describe_operations([upgrade])
    assert [d.destructive for d in described] == [True, True, False]
    assert described[0].description == "drop column posts.body"
    assert described[1].description == "drop table legacy"
