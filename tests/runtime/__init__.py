"""Around every migration: the lock, timeouts, the recorder and the ledger."""
