"""`python -m social [--host HOST] [--port PORT] [--workers N]`: serve the API (the demo),
migrating the database first, once, before any worker starts. Without SECRET_KEY it signs tokens with a demo key, made once
and kept in a file, which every worker and every later start uses."""

import argparse
import logging
import os
import secrets
from pathlib import Path

import uvicorn

from fastapi_alembic import Migrations, MigrationsError, mask_url
from social.models import Base
from social.settings import APP_ROOT, Settings

DEMO_KEY_FILE = APP_ROOT / ".secret_key"


def demo_secret_key(path: Path) -> str:
    """The key kept in ``path``; made and written there (readable by its owner only) if absent."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        kept = path.read_text().strip()
        if kept:
            return kept
        descriptor = os.open(path, os.O_WRONLY | os.O_TRUNC)
    key = secrets.token_urlsafe(32)
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    return key


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m social", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="processes serving the API")
    parser.add_argument(
        "--secret-key-file",
        type=Path,
        default=DEMO_KEY_FILE,
        help="where the demo keeps its signing key when SECRET_KEY is not set",
    )
    arguments = parser.parse_args()
    # Show the migrations applied at start-up beside uvicorn's own lines.
    logging.basicConfig(format="%(levelname)s:     %(message)s")
    logger = logging.getLogger("fastapi_alembic")
    logger.setLevel(logging.INFO)
    settings = Settings()
    if settings.secret_key is None:
        # The workers inherit this environment, so they all sign and check with one key.
        os.environ["SECRET_KEY"] = demo_secret_key(arguments.secret_key_file)
        print(
            f"SECRET_KEY is not set: the demo signs tokens with the key kept in "
            f"{arguments.secret_key_file}, shared by every worker (set SECRET_KEY wherever "
            "the app really runs).",
            flush=True,
        )
    # Once, before the workers start: each worker's start-up then finds the database at head,
    # instead of several of them racing to apply the same migrations.
    try:
        result = Migrations(metadata=Base, url=settings.database_url, root=APP_ROOT).upgrade()
    except MigrationsError as error:
        raise SystemExit(str(error)) from None
    for step in result.steps:
        logger.info("applied %s %s (%.0f ms)", step.revision, step.message, step.seconds * 1000)
    where = f"http://{arguments.host}:{arguments.port}"
    database = mask_url(settings.database_url)
    print(
        f"Social API listening on {where} (docs at {where}/docs), database {database}", flush=True
    )
    uvicorn.run(
        "social.app:app", host=arguments.host, port=arguments.port, workers=arguments.workers
    )


if __name__ == "__main__":
    main()
