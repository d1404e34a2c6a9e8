"""Deterministic generation of synthetic citizens and what each agency holds about them."""
