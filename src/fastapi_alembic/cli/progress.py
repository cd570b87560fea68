"""What upgrade and downgrade show while migrations run.

Three ways, by where the output goes:

- a terminal: a live line (which migration of how many, its id and message, how long it has
  been running), and one line per migration done above it;
- anything else (a pipe, a file, a CI log): a line when each migration starts and one when it
  ends, each written at once, so a migration that hangs is named while it hangs;
- ``--json``: the same two events as JSON Lines, then the result.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from rich.console import Console
from rich.markup import escape

from fastapi_alembic.cli.output import milliseconds, out
from fastapi_alembic.reports import MoveResult, StepInfo, StepStart
from fastapi_alembic.urls import mask_text

if TYPE_CHECKING:
    from rich.console import RenderableType

Mode = Literal["live", "lines", "json"]
_VERBS = {"up": "Applying", "down": "Reverting"}


def _of(index: int, total: int | None) -> str:
    return f"{index} of {total}" if total is not None else f"{index}"


def _done_line(step: StepInfo) -> str:
    arrow = "[green]↑[/]" if step.direction == "up" else "[yellow]↓[/]"
    return (
        f"  {arrow} {step.revision}  {escape(step.message)}  [dim]{milliseconds(step.seconds)}[/]"
    )


def _plain_done_line(step: StepInfo) -> str:
    arrow = "↑" if step.direction == "up" else "↓"
    return f"  {arrow} {step.revision}  {step.message}  {milliseconds(step.seconds)}"


def _plain_line(text: str) -> None:
    # Piped, Rich would only strip the styles again, at about a millisecond a line: at a
    # thousand migrations that was a tenth of the upgrade. Flushed, so a reader of the pipe
    # sees a step start when it starts.
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _json_line(event: str, data: dict[str, Any]) -> None:
    # Written and flushed at once: a reader of the pipe sees each event as it happens.
    sys.stdout.write(mask_text(json.dumps({"event": event, **data})) + "\n")
    sys.stdout.flush()


class _LiveLine:
    """The terminal's live line; its clock is read at each refresh."""

    def __init__(self, label: str) -> None:
        from rich.spinner import Spinner

        self.spinner = Spinner("dots")
        self.label = label
        self.since: float | None = None

    def __rich__(self) -> RenderableType:
        from rich.text import Text

        text = Text(self.label)
        if self.since is not None:
            text.append(f"  {milliseconds(time.monotonic() - self.since)}", style="dim")
        self.spinner.update(text=text)
        return self.spinner


class MoveProgress:
    """The display for one upgrade or downgrade: ``started`` and ``finished`` are the job's
    on_start and on_step callbacks."""

    def __init__(self, verb: str, target: str, mode: Mode) -> None:
        self.verb = verb
        self.target = target
        self.mode: Mode = mode
        self.console: Console = out
        # The live line only on a terminal: piped or --json, Rich's live display is not loaded.
        self._line: _LiveLine | None = None

    @staticmethod
    def mode_for(as_json: bool) -> Mode:
        if as_json:
            return "json"
        return "live" if out.is_terminal and not out.is_dumb_terminal else "lines"

    @contextmanager
    def showing(self) -> Iterator[MoveProgress]:
        if self.mode != "live":
            yield self
            return
        from rich.live import Live

        self._line = _LiveLine(f"{self.verb.capitalize()} to {self.target}…")
        # A console of its own on the real standard output: while env.py runs, what the
        # project prints goes to standard error (sys.stdout is swapped), not into this line.
        self.console = Console(file=sys.stdout, soft_wrap=True, highlight=False, emoji=False)
        with Live(
            self._line,
            console=self.console,
            refresh_per_second=8,
            transient=True,
            redirect_stdout=False,
            # Lock waits and warnings print above the line when they share the terminal.
            redirect_stderr=sys.stderr.isatty(),
        ):
            yield self

    def say(self, text: str) -> None:
        """A line for people, above the live line when there is one."""
        self.console.print(text)

    def started(self, start: StepStart) -> None:
        if self.mode == "json":
            _json_line("started", start.to_dict())
            return
        what = f"{_VERBS[start.direction]} {_of(start.index, start.total)}: {start.revision}"
        if self.mode == "live":
            # Shown at the live line's next refresh (8 a second): a run of quick migrations
            # pays no drawing per start.
            if self._line is not None:
                self._line.label = f"{what}  {start.message}"
                self._line.since = time.monotonic()
            return
        _plain_line(f"{what}  {start.message}")

    def finished(self, step: StepInfo) -> None:
        if self.mode == "json":
            _json_line("finished", {**step.to_dict(), "index": step.index, "total": step.total})
            return
        if self._line is not None:
            done = f": {_of(step.index, step.total)} done" if step.index else ""
            self._line.label = f"{self.verb.capitalize()} to {self.target}{done}…"
            self._line.since = None
        if self.mode == "lines":
            _plain_line(_plain_done_line(step))
        else:
            self.console.print(_done_line(step))

    def result(self, result: MoveResult, summary: str) -> None:
        if self.mode == "json":
            _json_line("result", result.to_dict())
        else:
            self.console.print(summary)
