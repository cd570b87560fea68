"""Draw the revision graph in the terminal, newest first, git-log style."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi_alembic.revisions import RevisionInfo


def draw(revisions: Sequence[RevisionInfo], current: Sequence[str] = ()) -> list[str]:
    """One line per revision, plus connector lines where branches split or join.

    ``revisions`` must be in topological order, newest first (as ``history`` gives them).
    """
    lines: list[str] = []
    lanes: list[str] = []
    for info in revisions:
        if info.revision not in lanes:
            lanes.append(info.revision)
        column = lanes.index(info.revision)
        joining = [i for i, lane in enumerate(lanes) if lane == info.revision and i != column]
        if joining:
            lines.append(_row(len(lanes), {i: "/" for i in range(joining[0], len(lanes))}))
            for index in reversed(joining):
                lanes.pop(index)
        lines.append(_row(len(lanes), {column: "*"}) + "  " + _label(info, current))
        if not info.parents:
            lanes.pop(column)
            continue
        lanes[column] = info.parents[0]
        opened = 0
        for parent in info.parents[1:]:
            if parent not in lanes:
                lanes.insert(column + 1 + opened, parent)
                opened += 1
        if opened:
            lines.append(_row(len(lanes), {column + 1 + k: "\\" for k in range(opened)}))
    return lines


def _row(width: int, marks: dict[int, str]) -> str:
    return " ".join(marks.get(i, "|") for i in range(width))


def _label(info: RevisionInfo, current: Sequence[str]) -> str:
    tags = [
        t
        for t, on in (
            ("head", info.is_head),
            ("merge", info.is_merge),
            ("current", info.revision in current),
        )
        if on
    ]
    suffix = f" ({', '.join(tags)})" if tags else ""
    return f"{info.revision}{suffix} {info.message}".rstrip()
