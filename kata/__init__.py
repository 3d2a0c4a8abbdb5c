"""Kata machinery for Work-It: the target switch, shared fixtures and the self-check."""
