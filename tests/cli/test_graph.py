"""`history --graph` (cli/graph.py): the drawing of a branch, its merge and a straight line."""

from __future__ import annotations

from fastapi_alembic.cli.graph import draw
from fastapi_alembic.revisions import RevisionInfo


def _rev(revision: str, *parents: str, head: bool = False) -> RevisionInfo:
    return RevisionInfo(
        revision, f"msg {revision}", parents, "", is_head=head, is_merge=len(parents) > 1
    )


def test_graph_draws_a_branch_and_its_merge() -> None:
    lines = draw(
        [
            _rev("m", "b", "c", head=True),
            _rev("c", "a"),
            _rev("b", "a"),
            _rev("a"),
        ]
    )
    assert lines == [
        "*  m (head, merge) msg m",
        "| \\",
        "| *  c msg c",
        "* |  b msg b",
        "| /",
        "*  a msg a",
    ]


def test_graph_of_a_straight_line() -> None:
    assert draw([_rev("b", "a", head=True), _rev("a")]) == ["*  b (head) msg b", "*  a msg a"]
