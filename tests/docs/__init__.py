"""The documentation: every code block is run, or skipped with a reason."""
