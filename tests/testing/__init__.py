"""The testing toolkit: template databases, the pytest plugin, the migration test suite."""
