"""Testing toolkit: freshly migrated databases for tests (see the plugin module)."""
