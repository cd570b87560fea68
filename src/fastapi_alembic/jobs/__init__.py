"""What each verb does: functions that receive a Workspace (workspace.py) first, as Alembic's
commands receive a Config. ``Migrations`` (migrations.py) keeps every public method, its
signature and its docstring, and calls these; a job that composes others (check) calls those
functions directly. They never import the facade, the CLI, the lifespan or the pytest plugin.

- authoring.py: make and merge (writing revision files)
- moving.py: upgrade, downgrade and stamp, online or as SQL, with timed steps
- checking.py: check and its items (one head, models, database at head, lint, ledger)
- reporting.py: current, heads, history, show, status, the models/database comparison, notes
- at_head.py: whether the database is at head (the gate's static answer, else Alembic's)
- bookkeeping.py: the applied-migration ledger read and written inside env.py (log,
  accept_edit, adopt_ledger, and what status and check read of it)
- running.py: running env.py with a connection, and reading inside it changing nothing
- common.py: small helpers the jobs share

Internal: nothing here is promised between releases; what users need is exported by
``fastapi_alembic`` (see docs/guide.md, "The Python API").
"""
