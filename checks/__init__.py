"""Parsers of device output, comparisons of device state with intent, and verdicts."""
