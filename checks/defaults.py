"""Default thresholds of the checks, importable without the checks themselves (the CLI's option defaults)."""

from __future__ import annotations

DEFAULT_MAX_AGE = 180  # seconds: the oldest WireGuard handshake still counted as alive
