"""The safety linter: what each revision would do, checked against rules, without a database.

reader.py runs a revision against recording operations; sql.py parses raw SQL; schema_state.py
replays the history so rules know which tables existed before; rules/ holds one rule per module
and facts/ what each backend's rules need to know; engine.py puts them together; report.py is
what comes out.

Internal: nothing here is promised between releases; what users need is exported by
``fastapi_alembic`` (see docs/guide.md, "The Python API").
"""
