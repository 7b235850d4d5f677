"""The ledger: every text and behaviour a client can see from the lab router, one module per VyOS version,
each entry naming the source it was read from at a release tag.

Why: twice the lab agreed with edgekit on the most important path while VyOS did not (commit-confirm
rebooting; 1.4's silent ``save``), both times because a text came from notes instead of VyOS's source.
The lab's code takes its client-visible texts from here (``text(version, key)``), so what it prints and
where that comes from are read in one place, and ``python -m lab.vyos.ledger audit`` checks every entry's
``evidence`` against the cited file at the cited tag (lab/README.md, "Auditing the ledger").

Modules: ``v1_3`` (equuleus: vyatta-cfg, vyatta-cfg-quagga, vyatta-cfg-firewall, vyatta-op, vyos-1x
equuleus), ``v1_4`` (sagitta: vyos-1x and vyatta-cfg sagitta / 1.4.x tags), ``v1_5`` (rolling: vyos-1x
current; what it does not override is 1.4's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The repositories and refs a source may name (a release tag or a release branch of VyOS).
REPOS = (
    "vyos/vyos-1x",
    "vyos/vyatta-cfg",
    "vyos/vyatta-cfg-quagga",
    "vyos/vyatta-cfg-firewall",
    "vyos/vyatta-op",
    "vyos/vyatta-cfg-system",
    "vyos/vyatta-config-mgmt",
    "vyos/vyatta-wanloadbalance",
    "FRRouting/frr",
)


@dataclass(frozen=True)
class Source:
    """Where an entry was read: ``repo`` at ``ref`` (a release tag or branch), file ``path``, and the
    function or template in it (``where``)."""

    repo: str
    ref: str
    path: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.repo}@{self.ref}:{self.path}" + (f" ({self.where})" if self.where else "")


@dataclass(frozen=True)
class Entry:
    """One client-visible text or behaviour.

    ``text``: what the lab prints (a ``str.format`` template where it has fields; "" = prints nothing).
    ``evidence``: literal fragments of the source file that prove it (the audit greps the file at the tag
    for each); ``note``: what the source does that the text alone does not say (blank lines, exit codes)."""

    key: str
    text: str
    source: Source
    evidence: tuple[str, ...] = ()
    note: str = ""
    sources: tuple[Source, ...] = field(default=())  # further files the behaviour spans


class Ledger(dict[str, Entry]):
    """A version's entries by key; ``derive`` builds a later version from an earlier one."""

    def __init__(self, version: str, *entries: Entry, base: Ledger | None = None) -> None:
        super().__init__(base or {})
        self.version = version
        for entry in entries:
            self[entry.key] = entry

    def text(self, key: str, **fields: object) -> str:
        template = self[key].text
        return template.format(**fields) if fields else template


def ledger(version: str) -> Ledger:
    """The ledger of a lab router version ("1.3", "1.4", "1.5")."""
    from lab.vyos.ledger import v1_3, v1_4, v1_5

    by_version = {"1.3": v1_3.LEDGER, "1.4": v1_4.LEDGER, "1.5": v1_5.LEDGER}
    try:
        return by_version[version]
    except KeyError:
        raise KeyError(f"the lab has no VyOS {version} router (known: {', '.join(by_version)})") from None


def text(version: str, key: str, **fields: object) -> str:
    """The text VyOS ``version`` prints for ``key`` (``fields`` fill its placeholders)."""
    return ledger(version).text(key, **fields)
