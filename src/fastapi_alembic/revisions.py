"""Questions about the revision graph: loading it safely, heads, what is applied and pending."""

from __future__ import annotations

import re
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import MultipleHeads, ResolutionError, RevisionError
from alembic.util import CommandError

from fastapi_alembic.errors import ConfigError, DatabaseStateError, RevisionExited, ScriptError
from fastapi_alembic.exits import contained
from fastapi_alembic.revision_ids import (
    defining_file,
    files_defining,
    refuse_reserved_ids,
    reserved_sentence,
)


@dataclass(frozen=True)
class RevisionInfo:
    """One revision as reports show it."""

    revision: str
    message: str
    parents: tuple[str, ...]
    path: str
    is_head: bool = False
    is_merge: bool = False

    @classmethod
    def of(cls, script: Script) -> RevisionInfo:
        return cls(
            revision=script.revision,
            message=(script.doc or "").strip(),
            parents=parents_of(script),
            path=script.path,
            is_head=script.is_head,
            is_merge=script.is_merge_point,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "message": self.message,
            "parents": list(self.parents),
            "path": self.path,
            "is_head": self.is_head,
            "is_merge": self.is_merge,
        }


def parents_of(script: Script) -> tuple[str, ...]:
    down = script.down_revision
    if down is None:
        return ()
    return (down,) if isinstance(down, str) else tuple(down)


_MISSING_PARENT = re.compile(r"Revision (\S+) referenced from (.+) is not present")


#: Where a loaded ScriptDirectory is kept on its Config, for alembic.command to reuse.
SHARED_SCRIPT_KEY = "fastapi_alembic.script"
_alembic_from_config = ScriptDirectory.from_config.__func__  # type: ignore[attr-defined]


def _shared_from_config(cls: type[ScriptDirectory], config: Config) -> ScriptDirectory:
    """ScriptDirectory.from_config, but handing back the directory already loaded for this
    Config: each alembic.command builds its own, which would execute every revision file a
    second time in the same command."""
    shared = config.attributes.get(SHARED_SCRIPT_KEY)
    if isinstance(shared, cls):
        return shared
    return _alembic_from_config(cls, config)  # type: ignore[no-any-return]


# Only Configs that carry a loaded directory (those the facade makes) are affected.
ScriptDirectory.from_config = classmethod(_shared_from_config)  # type: ignore[method-assign,assignment]


def share(config: Config, script: ScriptDirectory) -> ScriptDirectory:
    """Hand ``script`` to the alembic.command calls made with ``config``."""
    config.attributes[SHARED_SCRIPT_KEY] = script
    return script


def load_script_directory(
    config: Config, directory: Path, locations: list[str] | None = None
) -> ScriptDirectory:
    """Load every migration file now, turning each way that can fail into one sentence;
    from ``locations`` when given (the folders env.py names, version_folders.py).

    The result is kept on ``config``, so alembic.command reuses it instead of loading again."""
    if not (directory / "env.py").is_file():
        raise ConfigError(
            f"There is no migrations folder at {directory}: run `fastapi-alembic init` first, "
            "or set directory under [tool.fastapi-alembic]."
        )
    try:
        script = ScriptDirectory.from_config(config)
    except CommandError as error:
        raise ConfigError(
            f"The migrations folder {directory} cannot be used: {str(error).rstrip('.')}."
        ) from None
    if locations is not None:
        script.version_locations = locations
        script.__dict__.pop("_version_locations", None)  # memoized from the ini's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with contained(lambda how, error: _exit_on_load(how, error, directory)):
                script.revision_map.heads  # noqa: B018 - building the map imports every file
        except RevisionExited:
            raise
        except RevisionError as error:
            illegal = _ILLEGAL_ID.search(str(error))
            if illegal:
                raise ScriptError(
                    reserved_sentence(defining_file(script, illegal[1], directory), illegal[1])
                ) from None
            _missing_parent(caught, directory)
            raise ScriptError(
                f"The revision graph in {directory} is broken: {str(error).rstrip('.')}."
            ) from None
        except KeyError as error:
            _missing_parent(caught, directory)
            raise ScriptError(
                f"The revision graph in {directory} is broken: {str(error).rstrip('.')}."
            ) from None
        except CommandError as error:
            raise ScriptError(
                f"A file in {directory / 'versions'} is not a migration: {str(error).rstrip('.')}."
            ) from None
        except Exception as error:  # a migration file that does not import
            raise ScriptError(describe_load_failure(error, directory)) from None
    refuse_reserved_ids(script, directory)
    for warning in caught:
        duplicate = _DUPLICATE.search(str(warning.message))
        if duplicate:
            files = files_defining(script, duplicate[1])
            raise ScriptError(
                f"Revision {duplicate[1]} is defined by more than one file "
                f"({' and '.join(str(f) for f in files) or directory / 'versions'}): a copied "
                "revision file? Remove the copy, or give it a revision id of its own."
            )
    return share(config, script)


_DUPLICATE = re.compile(r"Revision (\S+) is present more than once")
_ILLEGAL_ID = re.compile(r"not allowed in revision identifier '(.*)'$", re.DOTALL)


def _missing_parent(caught: list[warnings.WarningMessage], directory: Path) -> None:
    for warning in caught:
        missing = _MISSING_PARENT.search(str(warning.message))
        if missing:
            child = re.search(r"-> (\w+)", missing[2])
            raise ScriptError(
                f"Revision {child[1] if child else missing[2]} names parent revision "
                f"{missing[1]}, which is "
                f"not in {directory / 'versions'}: restore that file or fix the "
                "down_revision."
            ) from None


def _exit_on_load(how: str, error: BaseException, directory: Path) -> str:
    return (
        f"The migration file {_failing_file(error, directory)} {how} when it is loaded, so "
        "nothing was run: a migration file must not end the process; remove that call (raise "
        "an exception to make a migration fail)."
    )


def describe_load_failure(error: BaseException, directory: Path) -> str:
    where = _failing_file(error, directory)
    kind = type(error).__name__
    if isinstance(error, SyntaxError):
        detail = f"{kind} at line {error.lineno}: {error.msg}"
    else:
        detail = f"{kind}: {error}"
    return (
        f"The migration file {where} cannot be loaded ({detail}); fix it and run the command again."
    )


def _failing_file(error: BaseException, directory: Path) -> str:
    folder = str(directory.resolve())
    if isinstance(error, SyntaxError) and error.filename:
        return error.filename
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith(folder)]
    return frames[-1].filename if frames else str(directory / "versions")


def failing_revision(error: BaseException, script: ScriptDirectory) -> Script | None:
    """The migration whose code was running when ``error`` was raised, from its traceback."""
    by_path = {str(Path(s.path).resolve()): s for s in script.walk_revisions()}
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        found = by_path.get(str(Path(frame.filename).resolve()))
        if found is not None:
            return found
    return None


def failure_outcome(
    direction: str, *, transactional: bool, partly_committed: str | None, failed: str = "it"
) -> str:
    """What a failed run left the database as: rolled back, or partly committed (by an
    autocommit_block, or by DDL that commits as it goes). ``failed`` names the migration."""
    if transactional and partly_committed is not None:
        return (
            f"the autocommit_block of migration {partly_committed} had committed what ran before "
            "it and inside it, which stays (the rest was rolled back): check the schema before "
            "you retry"
        )
    if transactional:
        return f"the whole {direction} was rolled back and the database is unchanged"
    return (
        "this database commits DDL as it goes, so the migrations before it stay applied and "
        f"{failed} may be partly applied: check the schema before you retry"
    )


def exited_while_running(
    how: str,
    error: BaseException,
    script: ScriptDirectory,
    *,
    transactional: bool,
    partly_committed: str | None = None,
) -> str:
    """The sentence for revision code that tried to end the process while migrations ran."""
    culprit = failing_revision(error, script)
    frames = traceback.extract_tb(error.__traceback__)
    function = next(
        (f.name for f in frames if culprit and _same_file(f.filename, culprit.path)), None
    )
    where = f"Migration {culprit.revision} ({culprit.path})" if culprit else "A migration"
    if function in ("upgrade", "downgrade"):
        how = f"{how} in {function}()"
    direction = function if function in ("upgrade", "downgrade") else "migration"
    outcome = failure_outcome(
        direction,
        transactional=transactional,
        partly_committed=partly_committed,
        failed="this one",
    )
    return (
        f"{where} {how}: a migration must not end the process (raise an exception to make it "
        f"fail); {outcome}."
    )


def _same_file(one: str, other: str) -> bool:
    return Path(one).resolve() == Path(other).resolve()


def require_single_head(script: ScriptDirectory) -> None:
    heads = script.get_heads()
    if len(heads) > 1:
        raise ScriptError(
            f"The migrations have {len(heads)} heads ({', '.join(sorted(heads))}): "
            'join them with `fastapi-alembic merge -m "merge heads"` first.'
        )


def is_known(script: ScriptDirectory, revision: str) -> bool:
    """Whether ``revision`` is exactly the id of one of the migration files."""
    try:
        found = script.revision_map.get_revision(revision)
    except (ResolutionError, RevisionError):
        found = None
    return found is not None and found.revision == revision


def require_known(script: ScriptDirectory, current: tuple[str, ...]) -> None:
    """Refuse a database stamped with a revision these migration files do not have."""
    for revision in current:
        if not is_known(script, revision):
            raise DatabaseStateError(
                f"The database is at revision {revision}, which is not among the migrations in "
                f"{script.dir}: it was migrated by newer or other code. Deploy the code that "
                "has that revision, or stamp the database if you know its real state."
            )


def ordered(script: ScriptDirectory) -> list[Script]:
    """Every revision, base first."""
    return list(reversed(list(script.walk_revisions())))


def applied_set(script: ScriptDirectory, current: tuple[str, ...]) -> set[str]:
    """The current revisions and everything they stand on."""
    seen: set[str] = set()
    stack = list(current)
    while stack:
        revision = stack.pop()
        if revision in seen:
            continue
        seen.add(revision)
        found = script.get_revision(revision)
        if found is not None:
            stack.extend(parents_of(found))
            stack.extend(found._resolved_dependencies)
    return seen


def pending(script: ScriptDirectory, current: tuple[str, ...]) -> list[Script]:
    """Revisions not yet applied, in the order an upgrade to heads applies them."""
    done = applied_set(script, current)
    return [s for s in ordered(script) if s.revision not in done]


_RELATIVE = re.compile(r"^(?P<base>.*?)(?P<step>[+-]\d+)$")


def resolve_revision(script: ScriptDirectory, reference: str) -> Script | None:
    """The revision ``reference`` names (an id, a unique prefix, a branch label, head, base),
    None for base; one sentence when it names none, or is a prefix of several."""
    if not reference.strip():
        raise ScriptError("The revision is empty: give a revision id or prefix, or head.")
    try:
        found = script.get_revision(reference)
    except MultipleHeads as error:
        raise ScriptError(
            f"{reference!r} is ambiguous: there are several heads ({error.heads}); "
            "name one of them, or use heads."
        ) from None
    except (CommandError, ResolutionError, RevisionError):
        candidates = sorted(
            s.revision for s in script.walk_revisions() if s.revision.startswith(reference)
        )
        if len(candidates) > 1:
            raise ScriptError(
                f"{reference!r} is ambiguous: it starts {len(candidates)} revisions "
                f"({', '.join(candidates)}); give more characters."
            ) from None
        raise ScriptError(
            f"No revision matches {reference!r}: `fastapi-alembic history` lists them."
        ) from None
    return found if isinstance(found, Script) else None


def require_target(script: ScriptDirectory, target: str, direction: str) -> None:
    """Refuse, before connecting, a target that names no revision or several."""
    if not target.strip():
        examples = (
            "head, +1 or a revision id" if direction == "upgrade" else "-1, base or a revision id"
        )
        raise ScriptError(f"The {direction} target is empty: give one, for example {examples}.")
    if ":" in target:  # an offline FROM:TO range: Alembic reads each end
        return
    relative = _RELATIVE.match(target)
    base = relative["base"] if relative else target
    if base in ("", "head", "heads", "base") or "@" in base:
        return
    resolve_revision(script, base)


def steps_between(script: ScriptDirectory, direction: str, start: str, end: str) -> int | None:
    """How many migrations an offline run from ``start`` to ``end`` writes; None when only
    Alembic can tell (relative or labelled targets), so it runs and says what is wrong."""
    upper, lower = (end, start) if direction == "upgrade" else (start, end)
    try:
        found = script.revision_map.iterate_revisions(upper, None if lower == "base" else lower)
        return len(list(found))
    except (CommandError, ResolutionError, RevisionError, ValueError):
        return None
