"""Every console block and Python example of README.md and docs/*.md, run.

The blocks of one document that name the same project (the README's tour: one folder built step
by step) run in order in one scratch folder; each such chain is one test. A block that cannot
run says why in its marker (`<!-- docs: skip="..." -->`), and test_inventory counts those.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.backends import require_server
from tests.support.doc_blocks import RUN, Block, documents, inventory, read_blocks
from tests.support.doc_session import Session, database_for

#: Blocks marked skip, by document: a new one has to be added here on purpose.
SKIPPED = {
    "README.md": 3,  # installing from PyPI and from a remote; make demo and make test
    "docs/benchmarks.md": 8,  # the benchmarks
    "docs/guide.md": 3,  # adopt, which asks on a terminal; an env.py before and after adopt
    "docs/lint.md": 30,  # each rule's advice, a revision fragment tests/lint/test_advice.py checks
    "docs/production.md": 6,  # log excerpts of locks held by others and of a killed migration
    "docs/testing.md": 4,  # two benchmarks; transaction mode, run by tests/testing/test_transaction_mode.py
}


def all_blocks() -> Iterator[Block]:
    for path in documents():
        yield from read_blocks(path)


def chains() -> dict[str, list[Block]]:
    found: dict[str, list[Block]] = {}
    for block in all_blocks():
        if block.language in RUN and block.skip is None:
            found.setdefault(f"{block.document}::{block.project}", []).append(block)
    return found


CHAINS = chains()


def test_inventory() -> None:
    """Every block that shows a command is a console block; every console and Python block
    runs or says why not; the blocks that do not run are counted per document."""
    problems, skipped = inventory(all_blocks())
    assert not problems, "\n".join(problems)
    assert skipped == SKIPPED


def servers_needed(blocks: list[Block]) -> set[str]:
    needed = set()
    for block in blocks:
        text = block.text + "\n".join(block.marker.before + block.marker.after)
        if "postgres" in block.marker.options or "postgresql" in text:
            needed.add("postgres")
        if "mysql" in block.marker.options or "mysql+" in text or "mariadb" in text:
            needed.add("mysql")
    return needed


@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_document_blocks(chain: str, tmp_path: Path) -> None:
    blocks = CHAINS[chain]
    servers = {backend: require_server(backend) for backend in sorted(servers_needed(blocks))}
    session = Session(tmp_path)
    problems: list[str] = []
    with ExitStack() as stack:
        for block in blocks:
            for backend in ("postgres", "mysql"):
                for shown in block.marker.options.get(backend, []):
                    url = stack.enter_context(database_for(servers[backend], shown, session))
                    session.env[f"DOCS_{backend.upper()}_URL"] = url
            problems += session.run(block)
    for where, seconds in session.seconds.items():
        print(f"{where}: {seconds:.1f} s")
    assert not problems, "\n\n".join(problems)
