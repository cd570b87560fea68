"""Autogenerate: renames, enums, defaults, layout and the fidelity corpus."""
