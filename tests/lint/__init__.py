"""The safety linter: its reader, its rules, its corpus, its gating of make and check."""
