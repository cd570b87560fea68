"""`python -m todo [--host HOST] [--port PORT]`: serve the API, migrating the database first."""

import argparse
import logging

import uvicorn

from fastapi_alembic import mask_url
from todo.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m todo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    arguments = parser.parse_args()
    # Show the migrations applied at start-up beside uvicorn's own lines.
    logging.basicConfig(format="%(levelname)s:     %(message)s")
    logging.getLogger("fastapi_alembic").setLevel(logging.INFO)
    settings = Settings()
    where = f"http://{arguments.host}:{arguments.port}"
    database = mask_url(settings.database_url)
    print(f"To-do API listening on {where} (docs at {where}/docs), database {database}", flush=True)
    uvicorn.run("todo.app:app", host=arguments.host, port=arguments.port)


if __name__ == "__main__":
    main()
