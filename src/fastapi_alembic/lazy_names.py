"""Names a package exports but loads on first use (a module-level ``__getattr__``, PEP 562):
importing the package stays cheap, and a caller that needs one name does not pay for the rest.
The public surface, the runtime and the testing toolkit share this one loader."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def loader(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: each name in ``homes`` is imported from its module
    there (``"module"``, or ``"module:Name"`` when exported under another name) when first
    asked for, and kept in ``namespace`` (the package's globals) so it is imported once."""

    def load(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, defined_as = home.partition(":")
        value = getattr(importlib.import_module(f"{package}.{module}"), defined_as or name)
        namespace[name] = value
        return value

    return load
