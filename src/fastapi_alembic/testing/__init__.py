"""Testing toolkit: a database built by the real migrations, fresh for every test.

- ``templates``: migrate a template once, hand out copies (usable without pytest);
- ``plugin``: the pytest fixtures (registered through the pytest11 entry point);
- ``suite``: the migration test suite behind ``fastapi-alembic test``;
- ``checks``: the same suite as six pytest tests, for ``from ... import *``.

Nothing is imported here, so that loading the plugin stays cheap.
"""
