"""The command line: its surface, its imports, the reporting verbs and where the URL comes from."""
