"""Benchmarks, one module per suite: `python -m bench [suite ...] [--quick]`."""
