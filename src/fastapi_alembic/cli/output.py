"""Everything the CLI prints goes through here: Rich for people, --json for scripts."""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from fastapi_alembic.errors import MigrationsError
from fastapi_alembic.urls import mask_text

if TYPE_CHECKING:
    from fastapi_alembic.reports import CheckReport

P = ParamSpec("P")
R = TypeVar("R")

# soft_wrap: a sentence stays one line, whatever the terminal width, so it can be grepped.
# emoji: a revision message that says ":bug:" is printed as written (and Rich's table of
# emoji codes, a megabyte, is not loaded).
out = Console(soft_wrap=True, highlight=False, emoji=False)
err = Console(stderr=True, soft_wrap=True, highlight=False, emoji=False)


def emit_json(data: Any) -> None:
    """Machine output: one JSON document on stdout, passwords masked (in each string before
    encoding, where a secret still reads as itself)."""
    typer.echo(json.dumps(_masked(data), indent=2, default=lambda value: _masked(str(value))))


def _masked(data: Any) -> Any:
    if isinstance(data, str):
        return mask_text(data)
    if isinstance(data, dict):
        return {_masked(key): _masked(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_masked(item) for item in data]
    return data


def say(text: str) -> None:
    out.print(text)


def fail(message: str, exit_code: int) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {escape(mask_text(message))}")
    return typer.Exit(exit_code)


def reports_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Turn a MigrationsError into its sentence on stderr and its exit code, no traceback."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with warnings.catch_warnings():
                # SQLAlchemy's note that a URL option is ignored would be a second message,
                # printed with a source line: the sentence we print is the one to act on.
                # (SAWarning is a RuntimeWarning; naming the base keeps SQLAlchemy unloaded
                # until a verb needs it.)
                warnings.filterwarnings("ignore", "Query string argument", RuntimeWarning)
                return function(*args, **kwargs)
        except MigrationsError as error:
            raise fail(str(error), error.exit_code) from None
        except KeyboardInterrupt:
            raise fail("Interrupted.", 130) from None

    return wrapper


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def relative_path(path: str | Path) -> str:
    """``path`` relative to the current folder when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def show_checks(report: CheckReport) -> None:
    """One line per check, marked passed (✓), failed (✗) or partial (◐: it covered only part
    of the history, which is never a pass)."""
    marks = {"passed": "[green]✓[/]", "failed": "[bold red]✗[/]", "partial": "[yellow]◐[/]"}
    for item in report.items:
        say(f"{marks[item.status]} {item.name}: {escape(item.detail)}")
        for line in item.details[:DETAILS_SHOWN]:
            say(f"    {escape(shortened(line))}")
        if len(item.details) > DETAILS_SHOWN:
            more = len(item.details) - DETAILS_SHOWN
            say(f"    [dim]… and {more} more (--json lists every one)[/]")
    for note in report.notes:
        say(f"[yellow]Note:[/] {escape(note)}")


#: Detail lines shown under a check; --json has all of them.
DETAILS_SHOWN = 12
#: The longest detail line shown (a database's error message can be long).
DETAIL_WIDTH = 200


def shortened(line: str) -> str:
    return line if len(line) <= DETAIL_WIDTH else line[: DETAIL_WIDTH - 1] + "…"


def checks_summary(report: CheckReport) -> str:
    """The last line of a check report: all passed, or how many failed and how many partial."""
    if report.ok:
        return "All checks passed."
    counts = [f"{report.failed} check(s) failed"] if report.failed else []
    if report.partial:
        counts.append(f"{report.partial} check(s) only partly ran")
    return f"[bold red]{', '.join(counts)}.[/]"
