"""The package as users get it, and what the repository holds."""
