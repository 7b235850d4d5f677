"""The venue stanzas `edge deploy` writes (one wg-quick ``[Peer]`` section per cluster, ``tasks.router.venue``), and
whether the venue needs the new one: the fields that differ from the file written before (no engine imports).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from inventory.errors import InputError

# The fields the venue's wg-quick [Peer] holds; the comment line above them only names the router.
FIELDS = ("PublicKey", "Endpoint", "AllowedIPs", "PersistentKeepalive")


def stanza_fields(text: str) -> dict[str, str]:
    """``Key = value`` lines of a stanza (comments and the ``[Peer]`` header left out), whitespace normalised."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "[")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = " ".join(value.split())
    return out


@dataclass
class VenueChange:
    """What the venue of one cluster has to do with its stanza: ``needed`` when the file changed (``changes``:
    one phrase per field, in ``FIELDS`` order), or nothing (the stanza is the one written before)."""

    cluster: str
    path: str
    needed: bool
    changes: list[str] = field(default_factory=list)

    def text(self) -> str:
        if not self.needed:
            return f"venue: nothing to do ({self.path} unchanged)"
        return f"venue needs {self.path}: " + "; ".join(self.changes)

    def to_json(self) -> dict[str, object]:
        return {"cluster": self.cluster, "file": self.path, "needed": self.needed, "changes": self.changes}


def venue_change(cluster: str, path: str, old: str | None, new: str) -> VenueChange:
    """Compare the stanza written before (``old``; None: no file yet) with the new one: the venue needs the
    new one when a field differs. The endpoint and AllowedIPs say from what to what; the public key only that it
    changed (the venue copies the whole stanza anyway)."""
    if old is None:
        return VenueChange(cluster, path, True, ["new stanza (no previous file)"])
    before, after = stanza_fields(old), stanza_fields(new)
    changes = []
    for key in [*FIELDS, *sorted((before.keys() | after.keys()) - set(FIELDS))]:
        was, now = before.get(key), after.get(key)
        if was == now:
            continue
        if key == "PublicKey":
            changes.append("PublicKey changed (the router's key)")
        elif was is None:
            changes.append(f"{key} added: {now}")
        elif now is None:
            changes.append(f"{key} removed (was {was})")
        else:
            changes.append(f"{key} {was} -> {now}")
    return VenueChange(cluster, path, bool(changes), changes)


def venue_dir(value: str) -> Path:
    """``--venue-dir``: created when missing; bad input (exit 2) when it is a file or not writable."""
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise InputError(f"--venue-dir {value}: not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--venue-dir {value}: cannot create it: {exc.strerror}") from exc
    if not os.access(path, os.W_OK):
        raise InputError(f"--venue-dir {value}: not writable")
    return path


def stanza_path(directory: Path, cluster: str) -> Path:
    return directory / f"{cluster}.conf"


def read_previous(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def write_stanza(directory: Path, cluster: str, stanza: str) -> VenueChange:
    """Write ``cluster``'s stanza (atomically: a temporary file renamed over it) when it differs from the file
    there, and say whether the venue needs it. An unchanged stanza leaves the file alone (idempotent)."""
    path = stanza_path(directory, cluster)
    change = venue_change(cluster, str(path), read_previous(path), stanza)
    if change.needed:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(stanza)
        tmp.replace(path)
    return change


def compare_stanza(directory: Path | None, cluster: str, stanza: str) -> VenueChange | None:
    """``edge plan``: what writing the stanza would change, nothing written (None without ``--venue-dir``)."""
    if directory is None:
        return None
    path = stanza_path(directory, cluster)
    return venue_change(cluster, str(path), read_previous(path), stanza)
