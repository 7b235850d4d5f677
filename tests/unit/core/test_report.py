"""Report printing: text from devices and site files is shown as it is, never as rich markup."""

from __future__ import annotations

import pytest

from tasks.core.report import HostReport, RunReport, print_changes


def test_changes_print_brackets_literally_and_only_pending_hosts_when_asked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = RunReport(
        command="deploy",
        hosts=[
            HostReport(
                host="r1",
                cluster="prd",
                status="planned",
                dialect="1.4",
                commands=[
                    "set interfaces ethernet eth1 description '[red]nodes[/]'",
                    "delete protocols bgp neighbor 1.2.3.4",
                ],
            ),
            HostReport(host="r2", cluster="dev", status="unchanged", dialect="1.4"),
        ],
    )
    print_changes(report, only_pending=True)
    out = capsys.readouterr().out
    assert "+ set interfaces ethernet eth1 description '[red]nodes[/]'" in out
    assert "- delete protocols bgp neighbor 1.2.3.4" in out
    assert "r2" not in out
