"""Reading the fenced blocks of README.md and docs/*.md, with the hidden markers that say how a
block is run.

A marker is an HTML comment right above the fence (blank lines between are allowed):

    <!-- docs: project=tour files=tour
    $ a shell command run before the block (its output is not compared)
    some_python = "prelude, for a python block"
    ---
    $ a shell command run after the block, which must succeed
    assert "an epilogue, for a python block"
    -->

The first line holds options (shell words); see OPTIONS. Everything else is the hidden set-up
(before `---`) and the hidden check (after it).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]

#: What a marker may say, and what it means (the README's "The docs run" says it for contributors).
OPTIONS = {
    "project": "the scratch folder: blocks of one document naming it run in order in one folder",
    "files": "comma-separated folders of tests/docs/projects/ copied over the project first",
    "skip": "the reason the block cannot run in a test; counted, never silent",
    "output": "`any`: the commands must succeed, what they print is not compared",
    "postgres": "this URL in the block stands for a fresh database on the PostgreSQL server",
    "mysql": "this URL in the block stands for a fresh database on the MariaDB server",
    "sub": "`REGEX=>TEXT`, applied to the expected and the actual output before comparing",
    "mode": "python blocks: run (default: as a script), pytest (as a test file), file",
    "path": "where mode=file writes the block, in the project",
}

#: The languages of the blocks that run; every other block is prose.
RUN = ("console", "python")
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")  # indented too: a block inside a list item
MARKER = re.compile(r"\A<!--\s*docs:(.*)-->\Z", re.DOTALL)


@dataclass
class Marker:
    options: dict[str, list[str]] = field(default_factory=dict)
    before: list[str] = field(default_factory=list)  # hidden lines run before the block
    after: list[str] = field(default_factory=list)  # hidden lines run after it

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.options.get(name)
        return values[-1] if values else default

    @property
    def shell_before(self) -> list[str]:
        return [line[2:] for line in self.before if line.startswith("$ ")]

    @property
    def shell_after(self) -> list[str]:
        return [line[2:] for line in self.after if line.startswith("$ ")]

    @property
    def prelude(self) -> str:
        return "\n".join(line for line in self.before if not line.startswith("$ "))

    @property
    def epilogue(self) -> str:
        return "\n".join(line for line in self.after if not line.startswith("$ "))


def parse_marker(comment: str) -> Marker:
    """``comment`` is the text between `docs:` and `-->`."""
    head, _, body = comment.partition("\n")
    marker = Marker()
    for word in shlex.split(head):
        name, _, value = word.partition("=")
        if name not in OPTIONS:
            raise ValueError(f"unknown docs marker option {name!r} (known: {', '.join(OPTIONS)})")
        marker.options.setdefault(name, []).append(value)
    part = marker.before
    for line in body.splitlines():
        if line.strip() == "---":
            part = marker.after
        elif part is marker.before or line.strip() or part:
            part.append(line)
    while marker.before and not marker.before[-1].strip():
        marker.before.pop()
    return marker


@dataclass
class Step:
    """One `$ command` of a console block and the lines it is shown to print."""

    command: str
    expected: list[str]
    line: int


@dataclass
class Block:
    document: str  # relative to the repository, e.g. docs/guide.md
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    marker: Marker

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"

    @property
    def project(self) -> str:
        return self.marker.get("project") or "main"

    @property
    def skip(self) -> str | None:
        return self.marker.get("skip")

    def steps(self) -> list[Step]:
        """A console block's commands (`$ ` lines, `\\` continuations joined) with the output
        shown under each. Output shown before the first command is an error."""
        steps: list[Step] = []
        lines = self.text.splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            if line.startswith("$ "):
                command, start = line[2:], index
                while command.endswith("\\") and index + 1 < len(lines):
                    index += 1
                    command += "\n" + lines[index]  # bash reads the continuation
                steps.append(Step(command, [], self.line + 1 + start))
            elif steps:
                steps[-1].expected.append(line)
            elif line.strip():
                raise ValueError(f"{self.where}: output shown before any `$ ` command: {line!r}")
            index += 1
        return steps


def read_blocks(path: Path, document: str | None = None) -> list[Block]:
    """Every fenced block of a Markdown file, with the marker above it (if any)."""
    text = path.read_text(encoding="utf-8")
    name = document or path.relative_to(REPOSITORY).as_posix()
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        start, indent = index, len(opening.group(1))
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][indent:])
            index += 1
        index += 1
        above = "\n".join(lines[:start]).rstrip()
        found = MARKER.match(above[above.rfind("<!--") :]) if above.endswith("-->") else None
        marker = parse_marker(found.group(1)) if found else Marker()
        blocks.append(Block(name, start + 1, opening.group(2), "\n".join(body), marker))
    return blocks


def documents() -> list[Path]:
    return [REPOSITORY / "README.md", *sorted((REPOSITORY / "docs").glob("*.md"))]


def shows_commands(block: Block) -> bool:
    return any(line.startswith("$ ") for line in block.text.splitlines())


def inventory(blocks: Iterable[Block]) -> tuple[list[str], dict[str, int]]:
    """What is wrong with how the blocks are marked, and how many each document skips."""
    problems: list[str] = []
    skipped: dict[str, int] = {}
    for block in blocks:
        if block.language not in RUN and shows_commands(block):
            problems.append(f"{block.where}: shows `$ ` commands but is not a ```console block")
        if block.skip is not None:
            if not block.skip.strip():
                problems.append(f"{block.where}: skip without a reason")
            skipped[block.document] = skipped.get(block.document, 0) + 1
        elif block.language == "console" and not shows_commands(block):
            problems.append(f"{block.where}: a console block without `$ ` commands, not marked")
    return problems, skipped
