"""The start-up path: the static revision scan, the header cache, the driver-only probe."""
