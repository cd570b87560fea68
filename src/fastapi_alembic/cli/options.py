"""The options verbs share, and building the facade from them.

Every verb takes ``--config``, ``--directory``, ``--name``, ``--verbose`` and ``--json``; a verb
that reads a database takes ``--url``, and one that loads the models ``--metadata``. Which verb
takes which is written once, in the verb table (cli/verbs.py); cli/commands.py adds these
options to each verb's own when it registers the verb, and the verb receives their values as
one :class:`Shared`.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fastapi_alembic.logs import printed

if TYPE_CHECKING:
    from fastapi_alembic.migrations import Migrations


@dataclass(frozen=True)
class SharedOption:
    """One shared option: its parameter name, how it is spelled, its type and help."""

    name: str
    flags: tuple[str, ...]
    annotation: Any
    default: Any
    help: str


#: In the order help shows them, after the verb's own options.
SHARED_OPTIONS = (
    SharedOption(
        "url",
        ("--url",),
        str | None,
        None,
        "Database URL. Default: $DATABASE_URL, then url in pyproject.",
    ),
    SharedOption(
        "metadata",
        ("--metadata",),
        str | None,
        None,
        'The models, as "module:attribute" (a MetaData or a Base). Default: metadata in pyproject.',
    ),
    SharedOption(
        "config",
        ("--config",),
        Path | None,
        None,
        "The pyproject.toml to read. Default: the nearest one.",
    ),
    SharedOption(
        "directory",
        ("--directory",),
        str | None,
        None,
        "The migrations folder. Default: directory in pyproject, else alembic.ini's "
        "script_location, else migrations.",
    ),
    SharedOption(
        "name",
        ("--name", "-n"),
        str | None,
        None,
        "The alembic.ini section to use, as `alembic -n NAME`. Default: alembic.",
    ),
    SharedOption("json", ("--json",), bool, False, "Print JSON for scripts instead of text."),
    SharedOption(
        "verbose",
        ("--verbose", "-v"),
        bool,
        False,
        "Show INFO messages (Alembic's `Running upgrade ...` among them) on standard error.",
    ),
)
#: Taken by every verb; --url and --metadata only where the verb table says.
ALWAYS = frozenset({"config", "directory", "name", "json", "verbose"})


@dataclass
class GlobalOptions:
    """What comes before the verb: ``fastapi-alembic --name NAME -v upgrade``."""

    section: str | None = None
    verbose: bool = False


GLOBALS = GlobalOptions()


@dataclass(frozen=True)
class Shared:
    """The shared options as one verb was given them (before or after the verb)."""

    url: str | None = None
    metadata: str | None = None
    config: Path | None = None
    directory: str | None = None
    name: str | None = None
    json: bool = False
    verbose: bool = False

    def build(
        self,
        *,
        lock_wait: float | None = None,
        lock_timeout: float | None = None,
        lock_retries: int | None = None,
    ) -> Migrations:
        """The facade for these options."""
        # Imported here: registering the verbs (and --help) must not load SQLAlchemy or Alembic.
        from fastapi_alembic.config import load_settings
        from fastapi_alembic.migrations import Migrations

        settings = load_settings(
            url=self.url,
            metadata_ref=self.metadata,
            directory=self.directory,
            config_path=self.config,
            section=self.name,
            lock_wait=lock_wait,
            lock_timeout=lock_timeout,
            lock_retries=lock_retries,
        )
        settings.verbose = self.verbose
        return Migrations(settings=settings)


def with_shared_options(
    function: Callable[..., None],
    takes: frozenset[str],
    help_for: dict[str, str] | None = None,
) -> Callable[..., None]:
    """``function(shared, **own)`` as Typer sees a command: its own parameters, then the
    shared options in ``takes``. Values before the verb (``GLOBALS``) fill in what is not
    given after it, and -v is applied for the verb's run."""
    own = list(inspect.signature(function, eval_str=True).parameters.values())[1:]
    taken = [option for option in SHARED_OPTIONS if option.name in takes]
    clashes = {p.name for p in own} & {o.name for o in taken}
    if clashes:
        raise TypeError(f"{function.__name__} declares shared options itself: {clashes}")
    help_for = help_for or {}
    shared_parameters = [
        inspect.Parameter(
            option.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=option.default,
            annotation=Annotated[
                option.annotation,
                typer.Option(
                    *option.flags, help=help_for.get(option.name, option.help), show_default=False
                ),
            ],
        )
        for option in taken
    ]
    names = {f.name for f in fields(Shared)}

    def command(**values: Any) -> None:
        given = {key: values.pop(key) for key in list(values) if key in names}
        given["name"] = given.get("name") or GLOBALS.section
        given["verbose"] = bool(given.get("verbose")) or GLOBALS.verbose
        shared = Shared(**given)
        with verbosity(shared.verbose):
            function(shared, **values)

    parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared_parameters
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__name__ = function.__name__
    command.__doc__ = function.__doc__
    command.__module__ = function.__module__
    return command


_FORMAT = "%(levelname)-5.5s [%(name)s] %(message)s"  # Alembic's own, from its alembic.ini


@contextmanager
def verbosity(verbose: bool) -> Iterator[None]:
    """Without -v, INFO messages stay off for the whole command (an env.py's
    ``logging.config.fileConfig(alembic.ini)`` would turn Alembic's on). With it, Alembic's and
    ours go to standard error, unless something already prints them (an env.py's logging)."""
    disabled = logging.root.manager.disable
    changed: list[tuple[logging.Logger, logging.Handler | None, int]] = []
    if not verbose:
        logging.disable(max(disabled, logging.INFO))
    else:
        logging.disable(logging.NOTSET)
        for name in ("alembic", "fastapi_alembic"):
            logger = logging.getLogger(name)
            changed.append((logger, _print_on_stderr(logger), logger.level))
            logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logging.disable(disabled)
        for logger, handler, level in changed:
            if handler is not None:
                logger.removeHandler(handler)
            logger.setLevel(level)


def _print_on_stderr(logger: logging.Logger) -> logging.Handler | None:
    """A handler printing ``logger``'s records on standard error, unless one prints them."""
    if printed(logger):
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    logger.addHandler(handler)
    return handler


LockWaitOption = Annotated[
    float | None,
    typer.Option(
        "--lock-wait",
        min=0,
        help="Seconds to wait for another migrator's lock. Default: lock_wait in pyproject, "
        "else 300.",
        show_default=False,
    ),
]
LockTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--lock-timeout",
        min=0,
        help="Seconds a statement waits for a table lock before its migration is rolled back "
        "and retried (0: no limit). Default: lock_timeout in pyproject, else 5.",
        show_default=False,
    ),
]
LockRetriesOption = Annotated[
    int | None,
    typer.Option(
        "--lock-retries",
        min=0,
        help="Tries again after a lock timeout. Default: lock_retries in pyproject, else 3.",
        show_default=False,
    ),
]
