"""The verb table: every verb, where its function lives, and which shared options it takes.

cli/commands.py registers the verbs from this table, in this order, and docs/cli.md carries the
same table for people; tests/cli/test_cli_surface.py checks the two against the registered
commands. Every verb takes --config, --directory, --name, --verbose and --json; a verb that
reads a database takes --url; a verb that loads the models (itself, or by running an env.py
that does) takes --metadata. Every verb that reads revisions may run env.py (to see the
revision folders it names), so all of them take both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Verb:
    name: str
    #: The module under fastapi_alembic.cli holding the function named like the verb.
    module: str
    #: Takes --url: it reads (or writes) a database.
    url: bool
    #: Takes --metadata: it loads the models.
    metadata: bool
    #: Help for a shared option that means something more precise on this verb.
    help_for: dict[str, str] = field(default_factory=dict)
    #: Click's context settings for the command.
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def shared(self) -> frozenset[str]:
        from fastapi_alembic.cli.options import ALWAYS

        return ALWAYS | {
            name for name, on in (("url", self.url), ("metadata", self.metadata)) if on
        }


VERBS = (
    Verb("init", "setup_commands", url=False, metadata=True),
    Verb("adopt", "setup_commands", url=False, metadata=True),
    Verb("make", "authoring_commands", url=True, metadata=True),
    Verb("upgrade", "moving_commands", url=True, metadata=True),
    # "-1" is a target, not an option.
    Verb(
        "downgrade",
        "moving_commands",
        url=True,
        metadata=True,
        context={"ignore_unknown_options": True},
    ),
    Verb("status", "reporting_commands", url=True, metadata=True),
    Verb("check", "checking_commands", url=True, metadata=True),
    Verb("current", "reporting_commands", url=True, metadata=True),
    # heads, show and merge run env.py when it may name revision folders of its own.
    Verb("heads", "reporting_commands", url=True, metadata=True),
    Verb("history", "reporting_commands", url=True, metadata=True),
    Verb("show", "reporting_commands", url=True, metadata=True),
    Verb("stamp", "moving_commands", url=True, metadata=True),
    Verb("log", "ledger_commands", url=True, metadata=True),
    Verb("merge", "authoring_commands", url=True, metadata=True),
    Verb(
        "test",
        "testing_commands",
        url=True,
        metadata=True,
        help_for={
            "url": "The server for the scratch databases (never the database itself). Default: "
            "the server of $DATABASE_URL or of url in pyproject, else SQLite files in the "
            "temporary folder. With --list-templates or --drop-templates: the test databases' "
            "server. Default: $FASTAPI_ALEMBIC_TEST_URL, else the pytest plugin's SQLite folder."
        },
    ),
    Verb("lint", "linting_commands", url=True, metadata=True),
)
