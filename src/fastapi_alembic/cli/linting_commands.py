"""lint: the safety linter over the migration files."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from fastapi_alembic.cli.options import Shared
from fastapi_alembic.cli.output import emit_json, relative_path, reports_errors, say
from fastapi_alembic.lint.model import Finding, Severity

if TYPE_CHECKING:
    from fastapi_alembic.lint.report import LintReport


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


_MARK = {
    Severity.ERROR: "[bold red]✗ error[/]",
    Severity.WARNING: "[yellow]! warning[/]",
    Severity.INFO: "[blue]i info[/]",
}


def show_findings(findings: tuple[Finding, ...], indent: str = "  ") -> None:
    """Each finding, with the safe way the first time its rule comes up."""
    shown: set[str] = set()
    for finding in findings:
        where = f"line {finding.line}" if finding.line else "file"
        backends = f" [dim]({', '.join(finding.backends)})[/]" if finding.backends else ""
        say(f"{indent}{_MARK[finding.severity]} [bold]{finding.rule}[/] {where}{backends}")
        say(f"{indent}    {escape(finding.message)}")
        if finding.safe in shown:
            continue  # said just above for the same rule and subject
        shown.add(finding.safe)
        say(f"{indent}    [dim]safe way:[/]")
        for line in finding.safe.splitlines():
            say(f"{indent}      [green]{escape(line)}[/]")


def _show_text(report: LintReport) -> None:
    by_revision: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_revision.setdefault(finding.revision, []).append(finding)
    for revision, findings in by_revision.items():
        say(f"[bold]Revision {revision}[/] [dim]{escape(relative_path(findings[0].path))}[/]")
        show_findings(tuple(findings))
    if report.database:
        say(f"[dim]Sizes and versions from {escape(report.database)}.[/]")
    mark = "[green]✓[/]" if report.ok else "[bold red]✗[/]"
    say(f"{mark} {escape(report.summary())}")


def _show_github(report: LintReport) -> None:
    for finding in report.findings:
        level = {"error": "error", "warning": "warning", "info": "notice"}[finding.severity.value]
        line = f",line={finding.line}" if finding.line else ""
        message = finding.message.replace("%", "%25").replace("\n", "%0A")
        typer.echo(
            f"::{level} file={relative_path(finding.path)}{line},title={finding.rule}::{message}"
        )
    typer.echo(report.summary())


def _show_rules(as_json: bool) -> None:
    from fastapi_alembic.lint.rules import RULES  # the rules load sqlglot: only when asked

    if as_json:
        emit_json(
            [
                {
                    "id": rule.id,
                    "severity": rule.severity.value,
                    "backends": list(rule.backends),
                    "title": rule.title,
                }
                for rule in RULES
            ]
        )
        return
    for rule in RULES:
        say(
            f"[bold]{rule.id}[/] [dim]{rule.severity.value}, {', '.join(rule.backends)}[/]  "
            f"{escape(rule.title)}"
        )


@reports_errors
def lint(
    shared: Shared,
    revisions: Annotated[
        list[str] | None,
        typer.Argument(help="Revisions to check (ids or prefixes). Default: every revision."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Check only the revisions after this one.", show_default=False
        ),
    ] = None,
    since_git: Annotated[
        str | None,
        typer.Option(
            "--since-git",
            help="Check only the revisions whose files were added or changed since this git ref.",
            metavar="REF",
            show_default=False,
        ),
    ] = None,
    dialect: Annotated[
        str | None,
        typer.Option(
            "--dialect",
            help="postgresql, mysql, mariadb or sqlite. Default: dialects under "
            "[tool.fastapi-alembic], else the URL's, else all of them.",
            show_default=False,
        ),
    ] = None,
    no_database: Annotated[
        bool,
        typer.Option("--no-database", help="Do not look at the database's tables and version."),
    ] = False,
    report_format: Annotated[
        ReportFormat, typer.Option("--format", help="text, json, or github (annotations).")
    ] = ReportFormat.text,
    rules: Annotated[bool, typer.Option("--rules", help="List the rules and stop.")] = False,
) -> None:
    """Check migrations for operations that lose data, lock tables or break running code."""
    if rules:
        _show_rules(shared.json)
        return
    report = shared.build().lint(
        revisions or (), since=since, since_git=since_git, dialect=dialect, database=not no_database
    )
    if shared.json or report_format is ReportFormat.json:
        emit_json(report.to_dict())
    elif report_format is ReportFormat.github:
        _show_github(report)
    else:
        _show_text(report)
    if not report.ok:
        raise typer.Exit(1)
