"""Benchmarks run by `make bench` (never by pytest): figures, not pass/fail."""
