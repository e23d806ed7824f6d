"""Benchmarks for issue 7's goals: ``python -m bench`` (``make bench``) runs them all."""
