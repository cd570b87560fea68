"""The files init writes into a project: alembic.ini, env.py, script.py.mako, a README.

Internal: nothing here is promised between releases; what users need is exported by
``fastapi_alembic`` (see docs/guide.md, "The Python API").
"""
