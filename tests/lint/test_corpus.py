"""The corpus of labelled revisions: every dangerous one found, almost no false alarms, with
and without a database (whose tables hold rows past the size rules start at)."""

from __future__ import annotations

from pathlib import Path

from tests.support.lint_corpus import CORPUS, Scores, evaluate


def test_the_corpus_is_large_and_mixed() -> None:
    assert len(CORPUS) >= 60
    assert sum(e.dangerous for e in CORPUS) >= 30 and sum(not e.dangerous for e in CORPUS) >= 30


def assert_accurate(scores: Scores) -> None:
    missed = {o.entry.name: sorted(o.missed) for o in scores.dangerous if o.missed}
    assert not missed, missed
    alarms = {o.entry.name: sorted(o.alarms) for o in scores.safe if o.alarms}
    assert scores.false_alarm_rate < 0.05, alarms


def test_every_dangerous_revision_is_found_and_false_alarms_stay_under_5_percent(
    tmp_path: Path,
) -> None:
    assert_accurate(evaluate(tmp_path))


def test_the_same_with_a_database_of_each_backend(fresh_url: str, tmp_path: Path) -> None:
    scores = evaluate(tmp_path, fresh_url)
    assert len(scores.dangerous) >= 7 and len(scores.safe) >= 7
    assert_accurate(scores)
