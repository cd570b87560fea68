"""Integrations with the frameworks an application runs on: fastapi.py, the lifespan that
brings the database to head (or checks it) before the app serves."""
