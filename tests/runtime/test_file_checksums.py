"""The ledger's file checksum: edits show, line endings and trailing blanks do not, and the
quick path for plain ASCII files gives the digest the general path gives (ledgers written
before it keep matching)."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from fastapi_alembic.runtime.file_checksums import checksum


def _general(data: bytes) -> str:
    """The normalisation every checksum has meant: lines, each without trailing whitespace,
    without the blank lines at the end, joined by \\n."""
    lines = [line.rstrip() for line in data.decode("utf-8", errors="replace").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def test_what_changes_the_checksum_and_what_does_not(tmp_path: Path) -> None:
    file = tmp_path / "0001_add.py"
    file.write_bytes(b'def upgrade():\n    op.add_column("t", sa.Column("c"))\n')
    first = checksum(file)
    file.write_bytes(b'def upgrade():  \r\n    op.add_column("t", sa.Column("c"))\t\r\n\r\n\n')
    assert checksum(file) == first
    file.write_bytes(b'def upgrade():\n    op.add_column("t", sa.Column("d"))\n')
    assert checksum(file) != first


def test_the_quick_path_gives_the_general_digest(tmp_path: Path) -> None:
    pieces = [b"a", b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x1f", b"\n\n"]
    pieces += ["é".encode(), "\u2028".encode(), b"\x85", b"\xff", b"x"]
    chosen = random.Random(2026)
    file = tmp_path / "revision.py"
    for _ in range(3000):
        # Often only plain ASCII with spaces, tabs and newlines (the quick path), sometimes
        # any of the characters that path leaves to the general one.
        alphabet = pieces[: chosen.randint(4, len(pieces))]
        data = b"".join(chosen.choice(alphabet) for _ in range(chosen.randint(0, 30)))
        file.write_bytes(data)
        assert checksum(file) == _general(data), data
