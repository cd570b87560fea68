"""Running the blocks of one document in a scratch project, and comparing what the commands
print with what the document shows.

Before comparing, both sides are normalised: revision ids are matched up (the document's
`3ccd8869c4ad` stands for whatever id the run made, the same one every time it appears),
timestamps, durations and the version are blanked, and the scratch project's folder is shown
as `/home/me/app`. A line `...` (indented or not) in the shown output stands for any number of
lines.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.doc_blocks import REPOSITORY, Block

BIN = Path(sys.executable).parent
PROJECTS = Path(__file__).resolve().parents[1] / "docs" / "projects"
#: The project folder as the documents show it.
SHOWN_ROOT = "/home/me/app"
TIMEOUT = 180

REVISION_ID = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{12}(?![0-9A-Za-z])")
BLANKS = [
    (re.compile(r"\d{4}_\d{2}_\d{2}_\d{6}"), "<timestamp>"),  # revision file names
    (re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?( UTC)?"), "<time>"),
    (re.compile(r"\b\d+(\.\d+)? (ms|s)\b"), "<duration>"),
    (re.compile(r"(fastapi-alembic|fastapi_alembic) \d+\.\d+\S*"), r"\1 <version>"),
]
#: Left out of the commands' environment: they would change what the commands do.
HIDDEN_ENV = re.compile(r"^(DATABASE_URL|FASTAPI_ALEMBIC_.*|PYTEST_.*|COLUMNS|LINES|VIRTUAL_ENV)$")


def blank(line: str, extra: Sequence[tuple[re.Pattern[str], str]] = ()) -> str:
    for pattern, replacement in [*BLANKS, *extra]:
        line = pattern.sub(replacement, line)
    return line.rstrip()


@dataclass
class Ids:
    """The document's revision ids and the run's, paired as they are first seen together."""

    shown: dict[str, str] = field(default_factory=dict)  # document's id -> run's id
    run: dict[str, str] = field(default_factory=dict)  # run's id -> document's id

    def pair(self, expected: str, actual: str) -> bool:
        """Whether two lines match when ids are paired; pairs them if they do."""
        want, got = REVISION_ID.split(expected), REVISION_ID.split(actual)
        if want != got:
            return False
        pairs = list(zip(REVISION_ID.findall(expected), REVISION_ID.findall(actual), strict=True))
        shown, run = dict(self.shown), dict(self.run)
        for doc_id, run_id in pairs:
            if (
                shown.setdefault(doc_id, run_id) != run_id
                or run.setdefault(run_id, doc_id) != doc_id
            ):
                return False
        self.shown, self.run = shown, run
        return True

    def into_run(self, text: str) -> str:
        return REVISION_ID.sub(lambda m: self.shown.get(m.group(), m.group()), text)


def matches(expected: list[str], actual: list[str], ids: Ids) -> bool:
    """``actual`` against ``expected``, where a `...` line stands for any number of lines."""
    if not expected:
        return not actual
    if expected[0].strip() == "...":  # indented too, as in elided JSON
        rest = expected[1:]
        for start in range(len(actual) + 1):
            attempt = Ids(dict(ids.shown), dict(ids.run))
            if matches(rest, actual[start:], attempt):
                ids.shown, ids.run = attempt.shown, attempt.run
                return True
        return False
    if not actual:
        return False
    attempt = Ids(dict(ids.shown), dict(ids.run))
    if attempt.pair(expected[0], actual[0]) and matches(expected[1:], actual[1:], attempt):
        ids.shown, ids.run = attempt.shown, attempt.run
        return True
    return False


def trimmed(lines: list[str]) -> list[str]:
    while lines and not lines[-1]:
        lines = lines[:-1]
    while lines and not lines[0]:
        lines = lines[1:]
    return lines


def difference(command: str, expected: list[str], actual: list[str]) -> str:
    shown = "\n".join(f"    {line}" for line in expected) or "    (nothing)"
    printed = "\n".join(f"    {line}" for line in actual) or "    (nothing)"
    return f"$ {command}\n  the document shows:\n{shown}\n  the command printed:\n{printed}"


class Session:
    """One scratch project folder, with the shell's state (exported variables, the current
    folder, the last exit code) carried from one command to the next."""

    def __init__(self, base: Path) -> None:
        self.root = base / "app"
        self.state = base / "state"
        self.root.mkdir(parents=True)
        self.state.mkdir()
        self.cwd = self.root
        self.last_exit = 0
        self.ids = Ids()
        self.to_shown: list[tuple[str, str]] = []  # the run's text -> the document's
        self.env = {k: v for k, v in os.environ.items() if not HIDDEN_ENV.match(k)}
        self.env.update(
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            DOCS_REPO=str(REPOSITORY),
            DOCS_PROJECTS=str(PROJECTS),
        )
        self.seconds: dict[str, float] = {}  # how long each block took, for the report

    # -- text in both directions ---------------------------------------------------------

    def into_run(self, text: str) -> str:
        for run, shown in self.to_shown:
            text = text.replace(shown, run)
        return self.ids.into_run(text)

    def as_shown(self, text: str) -> str:
        for run, shown in self.to_shown:
            text = text.replace(run, shown)
        for root in {str(self.root), str(self.root.resolve())}:
            text = text.replace(root, SHOWN_ROOT)
        return text

    # -- running -------------------------------------------------------------------------

    def shell(self, command: str) -> tuple[int, str]:
        """Run ``command`` with bash in the session; its exit code and what it printed."""
        saved = self.state / "env.sh"
        script = "\n".join(
            [
                f"[ -f {shlex.quote(str(saved))} ] && source {shlex.quote(str(saved))}",
                f"cd {shlex.quote(str(self.cwd))}",
                f"(exit {self.last_exit})",
                command,
                "__docs_exit=$?",
                f"export -p > {shlex.quote(str(saved))}",
                f"pwd > {shlex.quote(str(self.state / 'cwd'))}",
                "exit $__docs_exit",
            ]
        )
        done = subprocess.run(
            ["bash", "-c", script],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=TIMEOUT,
        )
        cwd = self.state / "cwd"
        if cwd.exists():
            self.cwd = Path(cwd.read_text().strip())
        self.last_exit = done.returncode
        return done.returncode, done.stdout

    def hidden(self, commands: list[str], block: Block, when: str) -> list[str]:
        problems = []
        for command in commands:
            code, output = self.shell(command)
            if code != 0:
                problems.append(
                    f"{block.where}: the hidden command run {when} the block failed "
                    f"(exit {code}): $ {command}\n{output}"
                )
        return problems

    def copy_files(self, block: Block) -> None:
        for name in (block.marker.get("files") or "").split(","):
            if name:
                source = PROJECTS / name
                assert source.is_dir(), f"{block.where}: no folder tests/docs/projects/{name}"
                subprocess.run(["cp", "-R", f"{source}/.", str(self.root)], check=True)

    def run_console(self, block: Block) -> list[str]:
        problems: list[str] = []
        extra = [
            (re.compile(pattern), replacement)
            for pattern, _, replacement in (
                sub.partition("=>") for sub in block.marker.options.get("sub", [])
            )
        ]
        compare = block.marker.get("output") != "any"
        for step in block.steps():
            code, output = self.shell(self.into_run(step.command))
            if not compare:
                if code != 0:
                    problems.append(f"{block.where}: exit {code}: $ {step.command}\n{output}")
                continue
            actual = trimmed([blank(self.as_shown(line), extra) for line in output.splitlines()])
            expected = trimmed([blank(line, extra) for line in step.expected])
            if not matches(expected, actual, self.ids):
                problems.append(
                    f"{block.where} (line {step.line}):\n"
                    + difference(step.command, step.expected, output.splitlines())
                )
        return problems

    def run_python(self, block: Block) -> list[str]:
        marker = block.marker
        mode = marker.get("mode", "run")
        code = "\n".join(part for part in (marker.prelude, block.text, marker.epilogue) if part)
        code = self.into_run(code) + "\n"
        if mode == "file":
            target = self.root / (marker.get("path") or "")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(code)
            return []
        if mode == "pytest":
            target = self.root / "tests" / f"test_docs_{block.line}.py"
            target.parent.mkdir(exist_ok=True)
            target.write_text(code)
            command = f"pytest -q -p no:cacheprovider {target.relative_to(self.root)}"
        else:
            assert mode == "run", f"{block.where}: unknown mode {mode}"
            target = self.state / f"block_{block.line}.py"
            target.write_text(code)
            # as code of the project: its root importable, as when the app runs there
            command = f"PYTHONPATH={shlex.quote(str(self.root))} python {shlex.quote(str(target))}"
        exit_code, output = self.shell(command)
        if exit_code != 0:
            return [f"{block.where}: the example failed (exit {exit_code}):\n{output}"]
        return []

    def run(self, block: Block) -> list[str]:
        started = time.monotonic()
        try:
            return self._run(block)
        finally:
            self.seconds[block.where] = time.monotonic() - started

    def _run(self, block: Block) -> list[str]:
        self.copy_files(block)
        problems = self.hidden(block.marker.shell_before, block, "before")
        if block.language == "console":
            problems += self.run_console(block)
        else:
            problems += self.run_python(block)
        problems += self.hidden(block.marker.shell_after, block, "after")
        return problems


@contextmanager
def database_for(server: str, shown: str, session: Session) -> Iterator[str]:
    """A fresh database on ``server`` standing for the document's URL ``shown``."""
    from sqlalchemy.engine import make_url

    from fastapi_alembic.dialects import for_url

    dialect = for_url(make_url(server))
    url = dialect.create_database(make_url(server), dialect.scratch_name("docs"))
    plain = url.render_as_string(hide_password=False)
    session.to_shown += [(plain, shown), (url.render_as_string(hide_password=True), shown)]
    try:
        yield plain
    finally:
        dialect.drop_database(url)
