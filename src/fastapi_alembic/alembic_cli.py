"""``context.config.cmd_opts`` as Alembic's own command line would have set it for a verb.

An env.py may read ``cmd_opts.cmd`` (which command runs: ``cmd[0].__name__``), ``cmd_opts.x``,
``cmd_opts.name``, ``cmd_opts.autogenerate``...: our verbs hand it the namespace Alembic's
parser makes from the Alembic command line closest to the verb, so every attribute is there
with this verb's values.
"""

from __future__ import annotations

import io
from argparse import Namespace
from collections.abc import Sequence
from contextlib import redirect_stderr
from functools import cache
from pathlib import Path
from typing import Any

from alembic.config import CommandLine


@cache
def _parser() -> object:
    return CommandLine(prog="alembic").parser


class CommandOptions(Namespace):
    """Alembic's parsed command line, parsed when env.py first reads an attribute other than
    ``quiet`` (building Alembic's parser takes longer than many a whole verb)."""

    def __init__(self, line: list[str]) -> None:
        super().__init__(quiet=True)
        self._line = line

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "_parsed" in self.__dict__:
            raise AttributeError(name)
        self.__dict__["_parsed"] = True
        self.__dict__.update(vars(_parse(self.__dict__["_line"])))
        return getattr(self, name)


def command_options(command: Sequence[str], ini: Path | None, section: str) -> Namespace:
    """The namespace for ``alembic [-c INI] -n SECTION -q COMMAND...`` (quiet: our reports
    replace Alembic's own lines)."""
    return CommandOptions(
        [*(["-c", str(ini)] if ini is not None else []), "-n", section, "-q", *command]
    )


def _parse(line: list[str]) -> Namespace:
    parser: Any = _parser()
    try:
        with redirect_stderr(io.StringIO()):  # argparse's usage lines are not ours to print
            options = parser.parse_args(line)
    except SystemExit:  # a command this Alembic does not know (an older one): the bare options
        options = parser.parse_args([*line[: line.index("-q") + 1], "current"])
    return options if isinstance(options, Namespace) else Namespace(quiet=True)
