"""Parsers of show output: one module and one TTP template per command, typed results in ``models``.

Each module exposes ``parse(text) -> <model>``; text that is not that command's output, and a row a parser
does not understand, raise ``ParseError`` (naming the row): a parser never guesses. Modules: ``bgp_summary``
(``parse_all`` for every address family), ``route``, ``bgp_prefix``, ``interfaces``, ``config_commands``,
``wireguard``, ``haproxy_stat``, ``arp``, ``system`` (``show version``, ``show system uptime``), ``commit_log``
(``show system commit``, 1.3 and 1.4 layouts);
``frr_json`` builds the same models from FRR's JSON output.
"""

from __future__ import annotations

from inventory.errors import EdgekitError


class ParseError(EdgekitError):
    """Device output that is not what the command prints (an error, another command's output, garbage)."""

    def __init__(self, command: str, reason: str, text: str = "") -> None:
        self.command = command
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        sample = f": {first[:80]!r}" if first else ""
        super().__init__(f"cannot parse '{command}' output: {reason}{sample}")


__all__ = ["ParseError"]
