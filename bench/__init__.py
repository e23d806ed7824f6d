"""Benchmarks for the project's speed goals: ``python -m bench`` (``make bench``) runs them all."""
