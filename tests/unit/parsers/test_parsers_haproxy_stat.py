"""HAProxy show stat (CSV) from the HAProxy 2.6 reference capture."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.parsers import ParseError, haproxy_stat

CAPTURE = Path(__file__).resolve().parents[2] / "fixtures" / "outputs" / "haproxy-show-stat.csv"


def test_reference_capture() -> None:
    rows = haproxy_stat.parse(CAPTURE.read_text())
    assert [(r.proxy, r.server, r.kind) for r in rows] == [
        ("k8s_apiserver", "FRONTEND", "frontend"),
        ("k8s_apiserver_nodes", "n1", "server"),
        ("k8s_apiserver_nodes", "n2", "server"),
        ("k8s_apiserver_nodes", "n3", "server"),
        ("k8s_apiserver_nodes", "BACKEND", "backend"),
        ("stats", "FRONTEND", "frontend"),
        ("stats", "BACKEND", "backend"),
    ]
    n2 = haproxy_stat.servers(rows, "k8s_apiserver_nodes")[1]
    assert (n2.status, n2.check_status, n2.address, n2.weight) == ("UP", "L4OK", "10.77.0.12:6443", 1)
    assert (n2.check_failures, n2.downtime, n2.sessions_total) == (2, 2, 2)
    assert n2.check_desc == "Layer4 check passed" and n2.up and n2.fields["check_rise"] == "2"
    backend = rows[4]
    assert (backend.status, backend.active_servers, backend.mode) == ("UP", 3, "tcp")
    assert rows[0].status == "OPEN" and rows[0].address is None


def test_down_server_and_other_column_order() -> None:
    text = "# pxname,svname,status,addr,type,check_status,chkfail\nbe,n1,DOWN,10.0.0.1:6443,2,L4CON,5\n"
    (row,) = haproxy_stat.parse(text)
    assert (row.status, row.up, row.check_status, row.check_failures) == ("DOWN", False, "L4CON", 5)


@pytest.mark.parametrize("text", ["Unknown command. Please enter one of the following commands only :\n", ""])
def test_not_show_stat(text: str) -> None:
    with pytest.raises(ParseError, match="show stat"):
        haproxy_stat.parse(text)
