"""The corpus of labelled revisions: every dangerous one found, almost no false alarms."""

from __future__ import annotations

from pathlib import Path

from corpus import CORPUS, evaluate


def test_the_corpus_is_large_and_mixed() -> None:
    assert len(CORPUS) >= 40
    assert sum(e.dangerous for e in CORPUS) >= 20 and sum(not e.dangerous for e in CORPUS) >= 20


def test_every_dangerous_revision_is_found_and_false_alarms_stay_under_5_percent(
    tmp_path: Path,
) -> None:
    scores = evaluate(tmp_path)
    missed = {o.entry.name: sorted(o.missed) for o in scores.dangerous if o.missed}
    assert not missed, missed
    alarms = {o.entry.name: sorted(o.found) for o in scores.safe if o.found}
    assert scores.false_alarm_rate < 0.05, alarms
