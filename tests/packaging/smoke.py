"""The tour's first steps, run from an installed wheel (`make test-wheel`).

Run with the Python of a fresh virtual environment the wheel was installed into (not
editable): init, make, upgrade and check on SQLite in a temporary folder, then plain alembic on
the same folder. A file left out of the wheel (a template, py.typed, the pytest entry point)
fails here. Prints one line per step; exits non-zero at the first that fails.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

MODELS = """
    from sqlalchemy import String
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(String(255), unique=True)
"""
BIN = Path(sys.executable).parent


def step(name: str, *args: str, cwd: Path, expect: str = "") -> str:
    done = subprocess.run(
        [str(BIN / name), *args],
        cwd=cwd,
        env={**os.environ, "DATABASE_URL": "sqlite:///app.db"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 or expect not in output:
        sys.exit(f"FAILED: {name} {' '.join(args)} (exit {done.returncode}):\n{output}")
    print(f"ok  {name} {' '.join(args)}")
    return output


def installed_package() -> Path:
    import fastapi_alembic

    location = Path(fastapi_alembic.__file__).parent
    if "site-packages" not in location.parts:
        sys.exit(f"FAILED: fastapi_alembic is imported from {location}, not from the wheel")
    for name in ("py.typed", "templates/script.py.mako", "templates/env.py.tmpl"):
        if not (location / name).is_file():
            sys.exit(f"FAILED: the wheel has no fastapi_alembic/{name}")
    distribution = importlib.metadata.distribution("fastapi-alembic")
    if not any(str(f).endswith("LICENSE") for f in distribution.files or ()):
        sys.exit("FAILED: the wheel carries no LICENSE")
    plugins = importlib.metadata.entry_points(group="pytest11")
    if "fastapi_alembic" not in {entry.name for entry in plugins}:
        sys.exit("FAILED: the pytest plugin's entry point is not registered")
    print(f"ok  fastapi_alembic {distribution.version} installed in {location.parent}")
    return location


def main() -> None:
    os.chdir(tempfile.gettempdir())  # never the checkout: its src/ must not be imported
    installed_package()
    version = importlib.metadata.version("fastapi-alembic")
    step("fastapi-alembic", "--version", cwd=Path.cwd(), expect=f"fastapi-alembic {version}")
    with tempfile.TemporaryDirectory(prefix="fastapi-alembic-wheel-") as folder:
        project = Path(folder)
        (project / "models.py").write_text(textwrap.dedent(MODELS))
        (project / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0"\n')
        step("fastapi-alembic", "init", "--metadata", "models:Base", cwd=project)
        for written in ("migrations/env.py", "migrations/script.py.mako", "alembic.ini"):
            if not (project / written).is_file():
                sys.exit(f"FAILED: init wrote no {written}")
        step("fastapi-alembic", "make", "create users", cwd=project, expect="create table users")
        step("fastapi-alembic", "upgrade", cwd=project, expect="Done: 1 migration(s)")
        step("fastapi-alembic", "check", cwd=project, expect="All checks passed.")
        step("alembic", "current", cwd=project, expect="(head)")
    print("The wheel works.")


if __name__ == "__main__":
    main()
