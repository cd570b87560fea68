"""The start-up path: "is the database at head?" answered in milliseconds.

head_check.py is the gate itself (the answer, :class:`HeadCheck`, and where every path agrees
on a :class:`Position`); scan.py reads the revision graph from the files' text, with headers.py
parsing each file's header; probe.py reads the version table with the database driver alone,
connecting to MySQL through drivers.py.

Nothing here imports Alembic, Typer, Rich, the facade or the jobs (tests/test_house_rules.py
checks it): a no-op start-up never loads them. This file imports nothing, so that loading one
module of the package loads no other.

Internal: nothing here is promised between releases; what users need is exported by
``fastapi_alembic`` (see docs/guide.md, "The Python API").
"""
