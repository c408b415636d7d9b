"""Helpers the development scripts, benchmarks and tests share (not shipped in the wheel)."""
