"""The docs harness itself: it reads markers, pairs revision ids, and fails when a document
shows what the command does not print, or leaves a block unmarked."""

from __future__ import annotations

from pathlib import Path

from tests.support.doc_blocks import Block, inventory, read_blocks
from tests.support.doc_session import Session

PAGE = """\
# A page

<!-- docs: project=demo sub="pid \\d+=>pid <pid>"
$ export GREETING=hello
---
$ test -e made.txt
-->
```console
$ echo "$GREETING, revision 3ccd8869c4ad took 4 ms"
hello, revision 3ccd8869c4ad took 4 ms
$ touch made.txt && echo "pid $$ at 3ccd8869c4ad in $PWD"
pid 1 at 3ccd8869c4ad in /home/me/app
```

Prose.

```console
make bench
```

```
$ not a console block
```
"""


def page(tmp_path: Path, text: str) -> list[Block]:
    path = tmp_path / "page.md"
    path.write_text(text)
    return read_blocks(path, "page.md")


def session(tmp_path: Path) -> Session:
    return Session(tmp_path / "session")


def test_a_block_that_matches_passes_and_its_marker_is_read(tmp_path: Path) -> None:
    block = page(tmp_path, PAGE)[0]
    assert block.project == "demo"
    assert block.marker.shell_before == ["export GREETING=hello"]
    assert block.marker.shell_after == ["test -e made.txt"]
    assert block.steps()[0].command.startswith('echo "$GREETING')
    assert session(tmp_path).run(block) == []


def test_wrong_output_is_reported_with_both_sides(tmp_path: Path) -> None:
    block = page(tmp_path, PAGE.replace("hello, revision", "hullo, revision"))[0]
    problems = session(tmp_path).run(block)
    assert len(problems) == 1
    assert "page.md:8 (line 9)" in problems[0]
    assert "the document shows:\n    hullo, revision 3ccd8869c4ad took 4 ms" in problems[0]
    assert "the command printed:\n    hello, revision 3ccd8869c4ad took 4 ms" in problems[0]


def test_a_missing_line_and_an_extra_line_fail(tmp_path: Path) -> None:
    shorter = PAGE.replace("hello, revision 3ccd8869c4ad took 4 ms\n", "")
    assert session(tmp_path).run(page(tmp_path, shorter)[0])
    longer = PAGE.replace("took 4 ms\n", "took 4 ms\nand more\n", 1)
    assert session(tmp_path / "b").run(page(tmp_path, longer)[0])


def test_one_revision_id_in_the_document_stands_for_one_id_of_the_run(tmp_path: Path) -> None:
    text = """\
```console
$ echo "at 0123456789ab"; echo "at abcdefabcdef"
at 3ccd8869c4ad
at 3ccd8869c4ad
$ echo "took 12 ms, then 1.5 s, at 2026-12-06 05:40:10 UTC"
took 3 ms, then 7 ms, at 2026-11-22 09:14:03 UTC
```
"""
    problems = session(tmp_path).run(page(tmp_path, text)[0])
    assert len(problems) == 1 and "line 2" in problems[0], problems
    paired = text.replace("at 3ccd8869c4ad\nat 3ccd8869c4ad", "at 3ccd8869c4ad\nat 77704c0b97c1")
    assert session(tmp_path / "b").run(page(tmp_path, paired)[0]) == []


def test_ids_shown_in_a_command_are_the_runs(tmp_path: Path) -> None:
    text = """\
```console
$ echo "Wrote revision 0123456789ab"
Wrote revision 3ccd8869c4ad
$ echo "asked for 3ccd8869c4ad"
asked for 3ccd8869c4ad
```
"""
    assert session(tmp_path).run(page(tmp_path, text)[0]) == []  # echo got 0123456789ab


def test_an_ellipsis_line_stands_for_any_lines(tmp_path: Path) -> None:
    text = """\
```console
$ printf 'one\\ntwo\\nthree\\nlast\\n'
one
...
last
```
"""
    assert session(tmp_path).run(page(tmp_path, text)[0]) == []
    wrong = text.replace("\nlast\n```", "\nfirst\n```")
    assert session(tmp_path / "b").run(page(tmp_path, wrong)[0])


def test_a_failing_hidden_command_or_example_is_reported(tmp_path: Path) -> None:
    text = """\
<!-- docs:
---
$ test -e never.txt
-->
```python
print("ran")
```

```python
raise SystemExit("this example is broken")
```
"""
    first, second = page(tmp_path, text)
    problems = session(tmp_path).run(first)
    assert len(problems) == 1 and "the hidden command run after the block failed" in problems[0]
    problems = session(tmp_path / "b").run(second)
    assert len(problems) == 1 and "this example is broken" in problems[0]


def test_unmarked_blocks_are_problems_and_skips_are_counted(tmp_path: Path) -> None:
    problems, skipped = inventory(page(tmp_path, PAGE))
    assert problems == [
        "page.md:17: a console block without `$ ` commands, not marked",
        "page.md:21: shows `$ ` commands but is not a ```console block",
    ]
    assert skipped == {}
    marked = PAGE.replace(
        "```console\nmake bench", '<!-- docs: skip="slow" -->\n```console\nmake bench'
    )
    problems, skipped = inventory(page(tmp_path, marked))
    assert len(problems) == 1 and skipped == {"page.md": 1}
