"""Around every migration: the lock, timeouts, the recorder, the ledger, the data-loss guard."""
