"""``python -m lab.vyos.ledger audit [--mirror DIR] [--version V] [-v]``: check every ledger entry against
its sources.

For each entry of each version, every cited file (``source`` and ``sources``) is read at its ref from a
local git mirror (``DIR/<owner>+<name>/repo``, where the ``fetch`` tool puts them; a bare ``DIR/<name>.git``
or a plain clone ``DIR/<owner>/<name>`` works too) and every ``evidence`` fragment must occur, literally, in
at least one of those files. Reported: a fragment found in none of them, a file missing at the ref, a
repository with no mirror, an entry with no evidence. Exit 0 when nothing is reported, 1 otherwise, 2 for
bad arguments. Network-free: it only runs ``git show REF:PATH`` in the mirrors.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lab.vyos.ledger import Entry, Source, ledger

DEFAULT_MIRROR = Path("/work/.mirror")
VERSIONS = ("1.3", "1.4", "1.5")


@dataclass(frozen=True)
class Finding:
    version: str
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.version} {self.key}: {self.problem}"


def git_dir(mirror: Path, repo: str) -> Path | None:
    owner, name = repo.split("/", 1)
    for candidate in (
        mirror / f"{owner}+{name}" / "repo",
        mirror / f"{owner}+{name}",
        mirror / f"{name}.git",
        mirror / owner / name / ".git",
        mirror / owner / name,
    ):
        if (candidate / "HEAD").is_file() or (candidate / "objects").is_dir():
            return candidate
    return None


@cache
def read_at(gitdir: Path, ref: str, path: str) -> str | None:
    """The file at ``ref`` (a tag, a branch or a remote branch), or None when it is not there."""
    for rev in (ref, f"origin/{ref}", f"refs/remotes/origin/{ref}", f"upstream/{ref}"):
        p = subprocess.run(
            ["git", "--git-dir", str(gitdir), "show", f"{rev}:{path}"],
            capture_output=True,
            timeout=60,
        )
        if p.returncode == 0:
            return p.stdout.decode(errors="replace")
    return None


def audit_entry(version: str, entry: Entry, mirror: Path) -> list[Finding]:
    out: list[Finding] = []
    texts: list[str] = []
    for src in (entry.source, *entry.sources):
        gd = git_dir(mirror, src.repo)
        if gd is None:
            out.append(Finding(version, entry.key, f"no mirror of {src.repo} under {mirror} (fetch it first)"))
            continue
        text = read_at(gd, src.ref, src.path)
        if text is None:
            out.append(Finding(version, entry.key, f"{src.repo}@{src.ref}:{src.path} does not exist"))
            continue
        texts.append(text)
    if not entry.evidence:
        out.append(Finding(version, entry.key, f"no evidence cited ({entry.source})"))
    elif texts:
        for fragment in entry.evidence:
            if not any(fragment in t for t in texts):
                cited = ", ".join(str(s) for s in (entry.source, *entry.sources))
                out.append(Finding(version, entry.key, f"evidence {fragment!r} not found in {cited}"))
    return out


def audit(versions: Iterable[str], mirror: Path) -> tuple[int, list[Finding]]:
    """(entries audited, findings). An entry a later version inherits unchanged is audited once."""
    seen: set[tuple[str, str, Source]] = set()
    findings: list[Finding] = []
    count = 0
    for v in versions:
        for key, entry in ledger(v).items():
            ident = (key, entry.text, entry.source)
            if ident in seen:
                continue
            seen.add(ident)
            count += 1
            findings += audit_entry(v, entry, mirror)
    return count, findings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lab.vyos.ledger", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("audit", help="check every entry's evidence in its cited files at their refs")
    a.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR, help=f"git mirrors (default {DEFAULT_MIRROR})")
    a.add_argument("--version", choices=VERSIONS, action="append", help="only this version (repeatable)")
    a.add_argument("-v", "--verbose", action="store_true", help="also list the entries that pass")
    args = ap.parse_args(argv)
    if not args.mirror.is_dir():
        print(f"error: mirror directory {args.mirror} does not exist", file=sys.stderr)
        return 2
    versions = args.version or list(VERSIONS)
    count, findings = audit(versions, args.mirror)
    if args.verbose:
        bad = {(f.version, f.key) for f in findings}
        for v in versions:
            for key in ledger(v):
                if (v, key) not in bad:
                    print(f"ok   {v} {key}")
    for f in findings:
        print(f"FAIL {f}")
    print(f"{count} entries audited, {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
