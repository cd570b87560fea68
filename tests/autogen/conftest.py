"""The whole fidelity corpus runs only under `make test-autogen` (AUTOGEN_CORPUS=1)."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("AUTOGEN_CORPUS"):
        return
    deselected = [item for item in items if item.get_closest_marker("autogen_corpus")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
