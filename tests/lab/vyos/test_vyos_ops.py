"""Pure pieces of the lab router's op mode (no namespaces): pipe splitting, strip-private, tables.

Expected texts follow the sources cited in lab/vyos/ops.py (vyos-1x strip-private.py, python-tabulate).
"""

from __future__ import annotations

import pytest

from lab.vyos.ops import seconds_to_human, split_pipes, strip_private, tabulate_plain_right, tabulate_simple

pytestmark = pytest.mark.lab


def test_split_pipes_keeps_quoted_bars_and_or() -> None:
    assert split_pipes("show configuration commands | match 'a|b' | count") == [
        "show configuration commands ",
        " match 'a|b' ",
        " count",
    ]
    assert split_pipes('cat x | grep "p|q" || true') == ["cat x ", ' grep "p|q" || true']
    assert split_pipes(r"echo a\|b") == [r"echo a\|b"]


def test_strip_private_strict() -> None:
    text = (
        "set system host-name 'edge-a'\n"
        "set interfaces ethernet eth1 address '192.168.100.1/24'\n"
        "set protocols bgp neighbor 10.0.0.2 password 'secret1'\n"
        "        remote-as 65021\n"  # curly config text: the ASN rule matches unquoted values
        "set interfaces wireguard wg0 private-key 'AAAA'\n"
        "set interfaces ethernet eth1 hw-id '52:54:00:12:34:56'\n"
    )
    out = strip_private(text)
    assert "host-name xxxxxx" in out
    assert "xxx.xxx.100.1/24" in out and "192.168" not in out
    assert "password xxxxxx" in out and "secret1" not in out
    assert "remote-as XXXXXX" in out
    assert "private-key xxxxxx" in out
    assert "xx:xx:xx:xx:xx:56" in out
    assert strip_private("version 1.2.3.x\n") == "version 1.2.3.x\n"  # not an address: kept


def test_tabulate_simple_like_python_tabulate() -> None:
    # tabulate([["10.0.0.2", "eth1", "aa:bb:cc:dd:ee:ff", "REACHABLE"]], ["Address", "Interface", ...])
    headers = ["Address", "Interface", "Link layer address", "State"]
    out = tabulate_simple([["10.0.0.2", "eth1", "aa:bb:cc:dd:ee:ff", "REACHABLE"]], headers)
    assert out == (
        "Address    Interface    Link layer address    State\n"
        "---------  -----------  --------------------  ---------\n"
        "10.0.0.2   eth1         aa:bb:cc:dd:ee:ff     REACHABLE"
    )
    assert tabulate_plain_right([["RX:", "bytes"], ["", "12345"]]) == "RX:  bytes\n     12345"


def test_seconds_to_human() -> None:
    assert seconds_to_human(90061, separator=" ") == "1d 1h 1m 1s"
    assert seconds_to_human(7 * 86400 + 59) == "1w59s"
