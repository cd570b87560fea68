"""pytest plugin entry point (pytest11). Fixtures arrive with the testing toolkit."""
