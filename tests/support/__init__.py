"""What the tests and bench/ share: project builders, server URLs, env.py shapes and corpora."""
