"""VyOS ``show version`` and ``show system uptime``.

``show version`` (vyos-1x ``src/op_mode/version.py`` and its template; the same ``Key:  value`` lines in
1.3, 1.4 and 1.5, "Release Train"/"Release train" spelt either way): every non-blank line is ``Key: value``
and a value may be empty (``Hardware S/N:`` on many VMs); a line of any other shape is a ParseError.

``show system uptime``: VyOS 1.4+ runs vyos-1x ``src/op_mode/uptime.py``, ``Uptime: 1w 4d 23h 52m 45s``
(early 1.4 rollings without the spaces: ``1w4d23h52m45s``) and load averages; VyOS 1.3 runs procps
``uptime``: `` 22:18:15 up 3 days,  4:05,  1 user,  load average: ...`` (``up 11 min``, ``up 1 day, 5 min``,
``up 4:05``), which is exact to the minute.

No TTP templates: ``show version`` is a flat list of ``Key: value`` lines read by one regex, and the uptime is
one line whose duration needs arithmetic, not a table.
"""

from __future__ import annotations

import re

from checks.parsers import ParseError
from checks.parsers.models import Version

VERSION_COMMAND = "show version"
UPTIME_COMMAND = "show system uptime"

_LINE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9 /]*?):(?:[ \t]+(?P<value>.*?))?[ \t]*$")
_FIELDS = {
    "version": "version",
    "release train": "release_train",
    "system type": "system_type",
    "hardware vendor": "hardware_vendor",
    "hardware model": "hardware_model",
    "hardware s/n": "serial_number",
    "hardware uuid": "hardware_uuid",
}
_UNIT = {"y": 31557600, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}  # seconds_to_human(): 365.25 days
_HUMAN = re.compile(r"(?:(\d+)([ywdhms]) ?)")
_PROCPS = re.compile(r"\bup\s+(?:(?P<days>\d+)\s+days?,\s+)?(?:(?P<hours>\d+):(?P<minutes>\d\d)|(?P<min>\d+)\s+min),")


def parse_version(text: str) -> Version:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            raise ParseError(VERSION_COMMAND, "a line that is not 'Key: value'", line)
        name = _FIELDS.get(match["key"].strip().lower())
        if name:
            fields[name] = (match["value"] or "").strip()
    release = fields.get("version", "")
    if not release.startswith("VyOS "):
        raise ParseError(VERSION_COMMAND, "no 'Version: VyOS ...' line", text)
    fields["version"] = release.removeprefix("VyOS ").strip()
    return Version(**{k: v or None for k, v in fields.items()} | {"version": fields["version"]})


def parse_uptime(text: str) -> float:
    """Seconds since boot from either layout."""
    for line in text.splitlines():
        if line.startswith("Uptime:"):
            value = line[len("Uptime:") :].strip()
            parts = _HUMAN.findall(value)
            if "".join(n + u for n, u in parts) != value.replace(" ", ""):
                raise ParseError(UPTIME_COMMAND, "an 'Uptime:' value that is not like '1w 4d 23h 52m 45s'", line)
            return float(sum(int(n) * _UNIT[u] for n, u in parts))
    match = _PROCPS.search(text)
    if match is None:
        raise ParseError(UPTIME_COMMAND, "neither an 'Uptime:' line nor uptime's ' up ...,' line", text)
    days = int(match["days"] or 0)
    minutes = int(match["min"]) if match["min"] else int(match["hours"]) * 60 + int(match["minutes"])
    return float(days * 86400 + minutes * 60)
