"""docs/lint.md, written from the rules themselves so the reference cannot drift from them.

Regenerate with ``python -m fastapi_alembic.lint.docs docs/lint.md`` (``make docs``); a test
fails when the file is not what this module writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi_alembic.lint.rule import CATEGORIES, Rule
from fastapi_alembic.lint.rules import RULES

INTRO = """\
# Lint rules

<!-- Written by `python -m fastapi_alembic.lint.docs docs/lint.md` from the rules in
src/fastapi_alembic/lint/rules/: edit the rule, not this file. -->

`fastapi-alembic lint` reads what each revision's `upgrade()` and `downgrade()` would do (the
Alembic operations, and the raw SQL parsed), and checks it against the rules below. See
[cli.md](cli.md#lint-revision) for the command, silences and settings.

It reads them by running them, once per backend it lints, with an `op` that records each
operation instead of running it and an `op.get_bind()` that records each statement and answers
with no rows: `sa.Enum(...).create(bind)`, `table.drop(bind)`, `metadata.create_all(bind)`, an
ORM `Session(bind=op.get_bind())` that reads and writes, and queries (`scalar_one()` and
`one()` give a value that is empty, zero and false) are all read on. `op.get_context().as_sql`
is true while a revision is read: keep a side effect (a file written, a message sent) under
`if not op.get_context().as_sql:` and it runs only when the migration does.

Most rules are about a table that existed before the revision: an index on a table the same
revision creates is fine, and so is a rename of a table or column the same revision made.
Without a database, such a table is assumed to be large. With one, a rule marked *size*
applies only from `large-table-rows` rows (default 10,000), and a rule marked *rows* only to a
table with rows. A `downgrade()` that drops what its own `upgrade()` made is never a finding;
any other finding in `downgrade()` is at most a warning (`downgrade-severity = "error"` under
`[tool.fastapi-alembic.lint]` keeps each rule's severity there).

The rules run for the project's backends: `dialects` under `[tool.fastapi-alembic]`, else the
URL's, else all three. `fastapi-alembic check` lints what is new: the revisions the database
has not applied, or without one those after `--since`, `--since-git` or `lint-baseline`.

Each finding comes with the safe way written for it: its own table, column, type, index or
constraint, in code valid for its backend. Below, each rule's safe way is shown for an example
finding.
"""


#: Why the docs harness does not run the advice shown: tests/lint/test_advice.py checks it.
ADVICE_SKIP = (
    "a fragment of a revision, written from the rule; tests/lint/test_advice.py parses it and "
    "its SQL, checks its layout, and runs the advice lint writes on real databases"
)


def _rule_section(rule: Rule) -> str:
    scope = {"size": "size (large tables only)", "rows": "rows (tables with rows only)"}
    lines = [
        f"### `{rule.id}`",
        "",
        f"**{rule.title}.** {rule.why}",
        "",
        "| | |",
        "|---|---|",
        f"| severity | {rule.severity.value} |",
        f"| backends | {', '.join(rule.backends)} |",
        f"| versions | {rule.versions} |",
        f"| checks | {' and '.join(f'`{d}()`' for d in rule.directions)} |",
    ]
    if rule.scope:
        lines.append(f"| with a database | {scope[rule.scope]} |")
    example = rule.example
    about = f"`{example.target}`" if example.table != "?" else f"revision {example.revision}"
    lines += [
        "",
        f"The safe way, as lint writes it for a finding about {about} on {example.backend}:",
        "",
        # The docs harness (tests/docs/) reads this: the snippet is a fragment of a revision.
        f'<!-- docs: skip="{ADVICE_SKIP}" -->',
        "```python",
        rule.safe,
        "```",
        "",
    ]
    return "\n".join(lines)


def render() -> str:
    parts = [INTRO]
    parts.append("| rule | severity | backends |\n|---|---|---|")
    parts[-1] += "".join(
        f"\n| [`{r.id}`](#{r.id}) | {r.severity.value} | {', '.join(r.backends)} |" for r in RULES
    )
    parts[-1] += "\n"
    for category, heading in CATEGORIES.items():
        rules = [r for r in RULES if r.category == category]
        if rules:
            parts.append(f"## {heading}\n")
            parts.extend(_rule_section(rule) for rule in rules)
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else Path("docs/lint.md")
    target.write_text(render(), encoding="utf-8")
    print(f"Wrote {target} ({len(RULES)} rules).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
