"""A small run of bench/crash_consistency.py on every backend: kill -9 in the middle of an
upgrade, then the schema matches alembic_version (PostgreSQL, SQLite) or the half-applied
migration is refused by name (MySQL/MariaDB), and a re-run reaches head where it may."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from bench import crash_consistency
from tests.support.backends import require_server


@pytest.fixture
def crash(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = crash_consistency
    # A shorter history than the benchmark's, so the suite stays quick.
    monkeypatch.setattr(module, "MIGRATIONS", 4)
    monkeypatch.setattr(module, "ROWS", 100)
    return module


def test_kill_9_mid_upgrade_leaves_a_state_we_can_tell(
    crash: ModuleType, backend: str, tmp_path: Path
) -> None:
    if backend != "sqlite":
        crash.SERVERS[backend] = require_server(backend)
    root = tmp_path / "project"
    root.mkdir()
    crash.write_project(root)
    with crash.database(backend, tmp_path, -1) as url:
        duration = crash.run_child(url, root, None)
    tally = crash.Tally(backend)
    # Inside the second migration, and inside the last one: both before head.
    for number, kill in enumerate([crash.KillAt(1, 0.4), crash.KillAt(3, 0.2)]):
        with crash.database(backend, tmp_path, number) as url:
            crash.trial(backend, url, root, duration / crash.MIGRATIONS, kill, tally)
    assert tally.broken == []
    assert tally.trials == 2
    assert tally.mid_run == 2
    if backend == "mysql":
        assert tally.detected + tally.refused_clean + tally.reran == 2
    else:
        assert tally.reran == 2 and tally.half_applied == 0
