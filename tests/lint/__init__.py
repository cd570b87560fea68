"""The safety linter: its reader, its rules, its corpus and the apply-time data-loss guard."""
