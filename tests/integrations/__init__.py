"""The FastAPI integration: the lifespan under a real server."""
