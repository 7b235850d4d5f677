"""HAProxy ``show stat`` (admin socket): CSV, one row per frontend, backend and server.

No TTP template here: the output is CSV with a header naming each column ("# pxname,svname,..."), and
the column set changes between HAProxy versions (2.6 has 100+ columns). TTP matches lines against fixed
patterns, so it would need one pattern per version and could not handle empty fields reliably; the csv
module reads the header and picks columns by name, whatever the version. The result has the same shape
as the TTP-based parsers: ``parse(text) -> list[HaproxyServer]``.
"""

from __future__ import annotations

import csv

from pydantic import ValidationError

from checks.parsers import ParseError
from checks.parsers.models import HaproxyServer

COMMAND = "show stat"
_KINDS = {"0": "frontend", "1": "backend", "2": "server", "3": "listener"}


def parse(text: str) -> list[HaproxyServer]:
    """Every row; an output without the "# pxname,svname" header is not ``show stat``."""
    lines = text.lstrip().splitlines()
    if not lines or not lines[0].startswith("# pxname,svname"):
        raise ParseError(COMMAND, "no '# pxname,svname,...' header", text)
    header = lines[0][2:].split(",")
    result = []
    try:
        for record in csv.DictReader(lines[1:], fieldnames=header):
            if not record.get("pxname"):
                continue
            fields = {k: v for k, v in record.items() if k and k != "-" and v}
            result.append(
                HaproxyServer(
                    proxy=record["pxname"],
                    server=record["svname"],
                    kind=_KINDS.get(record.get("type") or "", _kind(record["svname"])),
                    status=record.get("status") or "",
                    check_status=record.get("check_status") or None,
                    check_desc=record.get("check_desc") or None,
                    address=record.get("addr") or None,
                    weight=record.get("weight") or None,
                    active_servers=record.get("act") or None,
                    backup_servers=record.get("bck") or None,
                    sessions_current=record.get("scur") or 0,
                    sessions_total=record.get("stot") or 0,
                    check_failures=record.get("chkfail") or None,
                    downtime=record.get("downtime") or None,
                    last_change=record.get("lastchg") or None,
                    mode=record.get("mode") or None,
                    fields=fields,
                )
            )
    except (ValidationError, csv.Error) as exc:
        raise ParseError(COMMAND, f"bad row ({str(exc).splitlines()[0]})", text) from None
    return result


def servers(rows: list[HaproxyServer], proxy: str) -> list[HaproxyServer]:
    """The server rows of one backend."""
    return [r for r in rows if r.proxy == proxy and r.kind == "server"]


def _kind(svname: str) -> str:
    return {"FRONTEND": "frontend", "BACKEND": "backend"}.get(svname, "server")
