"""Defaults of the engine's timers, importable without the engine (the CLI's option defaults)."""

from __future__ import annotations

DEFAULT_CONFIRM_TIMEOUT = 300  # seconds the router waits for `confirm` before restoring itself
DEFAULT_GATE_TIMEOUT = 60.0  # seconds a router's gate may take after its commit-confirm
LB_GATE_TIMEOUT = 60.0  # seconds: keepalived needs ~3 advert intervals, HAProxy `rise` checks
EXPORTER_LISTEN = "127.0.0.1:9479"
EXPORTER_INTERVAL = 60.0
