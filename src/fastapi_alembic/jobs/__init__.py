"""The bodies of the facade's jobs, one module per concern.

``Migrations`` (migrations.py) keeps every public method, its signature and its docstring, and
calls into these modules; they use its wiring (settings, Alembic config, connections, env.py)
and never talk to the CLI, the lifespan or the pytest plugin.

- authoring.py: make and merge (writing revision files)
- moving.py: upgrade, downgrade and stamp, online or as SQL, with timed steps
- checking.py: check and its items (one head, models, database at head, lint, ledger)
- reporting.py: status, the models/database comparison, notes about the folder
- running.py: running env.py with a connection, and reading inside it changing nothing
- common.py: small helpers the facade and the jobs share
"""
