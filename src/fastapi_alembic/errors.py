"""Every expected failure is a MigrationsError: one sentence and a documented exit code.

Exit codes (also in docs/errors.md):
    1  a check failed, or there was nothing to do where something was asked for
    2  bad usage, configuration or migration files
    3  the database is unreachable, or in a state we refuse to touch
"""

from __future__ import annotations


class MigrationsError(Exception):
    """A failure the user can act on. ``str(error)`` is the one sentence to show."""

    exit_code = 2


class ConfigError(MigrationsError):
    """Missing or wrong settings: metadata, URL, directory, pyproject."""

    exit_code = 2


class ScriptError(MigrationsError):
    """The migration files cannot be used: syntax error, missing parent, several heads."""

    exit_code = 2


class RevisionExited(ScriptError):
    """A revision file tried to end the process (``sys.exit``, ``raise SystemExit``,
    ``os._exit``, ``KeyboardInterrupt``) while it was loaded, run or read. What ran of a
    migration was rolled back where the database allows; the sentence says which."""

    exit_code = 2


class NothingToDo(MigrationsError):
    """The request found nothing to do, such as ``make`` with no model changes."""

    exit_code = 1


class CheckFailed(MigrationsError):
    """A consistency check did not hold."""

    exit_code = 1


class DatabaseUnreachable(MigrationsError):
    """The server could not be reached or refused the credentials."""

    exit_code = 3


class DatabaseStateError(MigrationsError):
    """The database is at a revision we will not work from."""

    exit_code = 3


class MigrationFailed(MigrationsError):
    """A migration raised while running; the transaction was rolled back where the dialect can."""

    exit_code = 3


class MigrationLockTimeout(MigrationsError):
    """Another migrator held the migration lock for longer than we were told to wait."""

    exit_code = 3


class MigrationLockLost(MigrationsError):
    """The migration lock stopped being ours while migrating (its lease ran out, another
    migrator took it): the run stopped before applying or recording anything more."""

    exit_code = 3


class MigrationBlocked(MigrationsError):
    """A migration kept timing out waiting for a table lock another session holds."""

    exit_code = 3


class DataLossRefused(MigrationsError):
    """An upgrade would delete data (a dropped table or column, a narrowed type) and was not
    told it may."""

    exit_code = 3
