"""Per backend: the registry of backends, the pieces each feature registers, the drivers."""
