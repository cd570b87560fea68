"""Each model change of the corpus, on each backend: make, upgrade, check, rows kept,
downgrade to the schema before, and make on unchanged models writing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fidelity import Change, Runner
from tests.support.model_changes import CORPUS

# The slice of the corpus the default suite runs; `make test-autogen` runs every change.
SLICE = {
    "rename an indexed column",
    "add an enum value in the middle",
    "add a foreign key with ON DELETE CASCADE",
    "every type and default, unchanged but one column",
}


def _run(change: Change, backend: str, fresh_url: str, tmp_path: Path) -> None:
    if backend not in change.backends:
        pytest.skip(f"{change.name!r} is specific to {', '.join(change.backends)}")
    outcome = Runner(fresh_url, tmp_path).run(change)
    assert outcome.right, f"{change.name}: {outcome.problems}\n{outcome.revision_text}"


@pytest.mark.parametrize("change", [c for c in CORPUS if c.name in SLICE], ids=lambda c: c.name)
def test_change(change: Change, backend: str, fresh_url: str, tmp_path: Path) -> None:
    _run(change, backend, fresh_url, tmp_path)


@pytest.mark.autogen_corpus
@pytest.mark.parametrize("change", CORPUS, ids=lambda c: c.name)
def test_corpus(change: Change, backend: str, fresh_url: str, tmp_path: Path) -> None:
    _run(change, backend, fresh_url, tmp_path)


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 40
    assert {c.name for c in CORPUS} >= SLICE
