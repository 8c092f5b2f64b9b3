"""Utilities shared across imgrec-classic."""
