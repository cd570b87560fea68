"""`fastapi-alembic adopt`: wire an existing Alembic project (its own env.py) for
FastAPI-Alembic without losing its options, its script.py.mako or its alembic.ini.

Internal: nothing here is promised between releases; what users need is exported by
``fastapi_alembic`` (see docs/guide.md, "The Python API").
"""

from __future__ import annotations

from pathlib import Path

from fastapi_alembic.adoption.envpy import CannotAdopt
from fastapi_alembic.adoption.plan import AdoptionPlan, FileChange, plan_adoption


def is_wired(env_path: Path) -> bool:
    """Whether env.py runs the migrations through ``fastapi_alembic.env.run_migrations``."""
    try:
        source = env_path.read_text(encoding="utf-8")
    except OSError:
        return False
    return "fastapi_alembic.env" in source and "run_migrations" in source


__all__ = ["AdoptionPlan", "CannotAdopt", "FileChange", "is_wired", "plan_adoption"]
