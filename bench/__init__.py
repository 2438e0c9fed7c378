"""Benchmarks; each runs as a script (python bench/NAME.py --help)."""
