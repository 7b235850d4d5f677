"""One router's state: running config, revisions, commit (verify + apply), commit-confirm, save, boot.

Runs inside the router daemon, inside the router's network namespace. Commits are serialised by a
lock; they are blocking (subprocesses) and the SSH server calls them from a worker thread.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import config as C
from .frr import Frr, FrrError, Line, bgp_root, render
from .kernel import (
    ApplyError,
    WireGuard,
    apply_ethernet,
    apply_system_ip,
    interface_exists,
    private_wireguard_run,
    setup_namespace,
)
from .schema import DIALECTS, build_schema

MAX_REVISIONS = 100


def minute_seconds() -> float:
    """Length of a commit-confirm "minute": the lab may scale it for fast tests."""
    return float(os.environ.get("EDGEKIT_LAB_MINUTE_SECONDS", "60"))


@dataclass
class Revision:
    time: float
    user: str
    via: str
    comment: str
    config: list[str]  # set commands

    def line(self, n: int) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.time))
        out = f"{n:<3} {stamp} by {self.user} via {self.via}"
        return out + (f"\n    {self.comment}" if self.comment else "")


@dataclass
class CommitResult:
    ok: bool
    lines: list[str] = field(default_factory=list)


class Router:
    def __init__(self, spec: dict) -> None:
        self.name: str = spec["name"]
        self.version: str = spec.get("version", "1.4")
        self.dialect = DIALECTS[self.version]
        self.state = Path(spec["state_dir"])
        self.boot_config: list[str] = list(spec.get("boot_config") or [])
        self.schema = build_schema(self.version)
        self.running: C.Tree = {}
        self.revisions: list[Revision] = []
        self.frr = Frr(self.state / "frr")
        self.wg = WireGuard(self.state, self.version)
        self.frr_lines: list[Line] = []
        self.lock = threading.RLock()
        self.confirm_timer: threading.Timer | None = None
        self.confirm_target: C.Tree | None = None
        for d in ("config", "run", "log", "wireguard"):
            (self.state / d).mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------ paths and text

    @property
    def config_boot(self) -> Path:
        return self.state / "config" / "config.boot"

    def host_name(self) -> str:
        return C.value(self.running, "system", "host-name") or self.name

    def commands(self, tree: C.Tree | None = None) -> list[str]:
        return C.set_commands(self.running if tree is None else tree, self.schema)

    def boot_text(self, tree: C.Tree) -> str:
        body = "\n".join(C.curly(tree, self.schema))
        footer = (
            "// Warning: Do not remove the following line.\n"
            f'// vyos-config-version: "edgekit-lab@{self.version}"\n'
            f"// Release version: {self.dialect.version}\n"
        )
        return body + "\n" + footer

    def saved(self) -> C.Tree:
        if not self.config_boot.exists():
            return {}
        return C.build(self.schema, C.parse_boot(self.config_boot.read_text()))

    def resolve_file(self, name: str) -> Path:
        """The router's files live under state_dir: `/config/x` is state_dir/config/x."""
        p = Path(name)
        rel = p.relative_to("/") if p.is_absolute() else Path("config") / p
        target = (self.state / rel).resolve()
        if not str(target).startswith(str(self.state.resolve())):
            raise C.PathError(f"Cannot open configuration file {name}: outside the router's files")
        return target

    # ------------------------------------------------------------ boot / shutdown

    def boot(self) -> None:
        private_wireguard_run()
        setup_namespace()
        self.frr.start()
        if self.config_boot.exists():
            tree = self.saved()
        else:
            tree = C.build(self.schema, C.parse_set_lines(self.boot_config))
        if not C.has(tree, "system", "host-name"):
            C.set_path(tree, self.schema, ["system", "host-name", self.name])
        # What a previous run of this router applied, so its leftovers are removed too.
        applied = self.state / "run" / "applied.conf"
        old: C.Tree = {}
        if applied.exists():
            try:
                old = C.build(self.schema, C.parse_set_lines(applied.read_text().splitlines()))
            except C.PathError:
                old = {}
        res = self._commit(tree, "root", "init", "", old=old)
        if not res.ok:
            raise RuntimeError("boot configuration failed:\n" + "\n".join(res.lines))

    def shutdown(self) -> None:
        self.cancel_confirm()
        self.wg.stop_all()
        self.frr.stop()

    # ------------------------------------------------------------ verify

    def verify(self, tree: C.Tree) -> list[tuple[str, str]]:
        """Commit-time checks VyOS makes; (section, message) pairs."""
        errs: list[tuple[str, str]] = []
        for ifname in C.sub(tree, "interfaces", "ethernet"):
            if not interface_exists(ifname):
                errs.append((f"interfaces ethernet {ifname}", f'Interface "{ifname}" does not exist!'))
        peer_key = self.dialect.wg_peer_key
        for ifname, cfg in C.sub(tree, "interfaces", "wireguard").items():
            sec = f"interfaces wireguard {ifname}"
            key = C.value(cfg, "private-key")
            if key is None:
                errs.append((sec, "Wireguard private-key not defined"))
            elif self.version == "1.3" and self.wg.named_key(key) is None:
                errs.append(
                    (
                        sec,
                        f'Wireguard key-pair "{key}" does not exist! Generate it with: '
                        f"run generate wireguard named-keypairs {key}",
                    )
                )
            for peer, pc in C.sub(cfg, "peer").items():
                if not C.has(pc, peer_key):
                    errs.append((sec, f'Wireguard {peer_key} required for peer "{peer}"!'))
                if not C.has(pc, "allowed-ips"):
                    errs.append((sec, f'Wireguard allowed-ips required for peer "{peer}"!'))
                if C.has(pc, "address") != C.has(pc, "port"):
                    errs.append(
                        (
                            sec,
                            f'Both Wireguard port and address must be defined for peer "{peer}" '
                            "if either one of them is set!",
                        )
                    )
        asn, bgp = bgp_root(tree, self.version)
        sec = "protocols bgp"
        if self.version == "1.4" and bgp and asn is None:
            errs.append((sec, "BGP system-as number must be defined!"))
        groups = C.sub(bgp, "peer-group")
        for n, cfg in C.sub(bgp, "neighbor").items():
            pg = C.value(cfg, "peer-group")
            if pg is not None and pg not in groups:
                errs.append((sec, f'Specified peer-group "{pg}" for neighbor "{n}" does not exist!'))
            pg_as = C.has(groups.get(pg or "", {}), "remote-as")
            if not C.has(cfg, "remote-as") and not pg_as:
                errs.append((sec, f'Neighbor "{n}" remote-as must be set!'))
            if C.has(cfg, "remote-as") and pg_as:
                errs.append((sec, f'Peer-group member "{n}" cannot override remote-as of peer-group "{pg}"!'))
            if C.has(cfg, "ebgp-multihop") and C.has(cfg, "disable-connected-check"):
                pass  # FRR accepts both; VyOS does too
        for prefix, rc in C.sub(bgp, "listen", "range").items():
            pg = C.value(rc, "peer-group")
            if pg is None or pg not in groups:
                errs.append(
                    (
                        sec,
                        f'Listen range for prefix "{prefix}" has no peer group configured.'
                        if pg is None
                        else f'Peer-group "{pg}" for listen range "{prefix}" does not exist!',
                    )
                )
        return errs

    # ------------------------------------------------------------ commit

    def _apply(self, old: C.Tree, new: C.Tree, frr_new: list[Line]) -> None:
        """Make the namespace and FRR match ``new``; raises with (section, message)."""
        try:
            apply_ethernet(old, new)
        except (ApplyError, OSError) as e:
            raise _Failed("interfaces ethernet", str(e)) from e
        try:
            apply_system_ip(new)
        except OSError as e:
            raise _Failed("system ip", str(e)) from e
        try:
            self.wg.apply(old, new)
        except (ApplyError, OSError) as e:
            raise _Failed("interfaces wireguard", str(e)) from e
        try:
            self.frr.apply(self.frr_lines, frr_new)
            self.frr_lines = frr_new
        except FrrError as e:
            raise _Failed("protocols", str(e)) from e

    def _commit(self, cand: C.Tree, user: str, via: str, comment: str, old: C.Tree | None = None) -> CommitResult:
        with self.lock:
            old = self.running if old is None else old
            errs = self.verify(cand)
            frr_new = render(cand, self.version)
            if not errs:
                bad = self.frr.check(frr_new)
                if bad:
                    errs.append(("protocols", bad))
            if errs:
                return CommitResult(False, _failure(errs))
            try:
                self._apply(old, cand, frr_new)
            except _Failed as e:
                # Put back what was running; every step is full-state, so this undoes a partial apply.
                frr_old = render(old, self.version)
                try:
                    self._apply(cand, old, frr_old)
                except _Failed:
                    pass
                return CommitResult(False, _failure([(e.section, e.message)]))
            self.running = C.clone(cand)
            (self.state / "run" / "applied.conf").write_text("\n".join(self.commands()) + "\n")
            self.revisions.insert(0, Revision(time.time(), user, via, comment, self.commands()))
            del self.revisions[MAX_REVISIONS:]
            self._write_archive()
            return CommitResult(True)

    def commit(self, cand: C.Tree, user: str, comment: str = "", via: str = "cli") -> CommitResult:
        return self._commit(C.clone(cand), user, via, comment)

    def _write_archive(self) -> None:
        data = [r.__dict__ for r in self.revisions]
        (self.state / "config" / "archive.json").write_text(json.dumps(data, indent=1))

    def revision(self, n: int) -> C.Tree | None:
        if not 0 <= n < len(self.revisions):
            return None
        return C.build(self.schema, C.parse_set_lines(self.revisions[n].config))

    # ------------------------------------------------------------ commit-confirm

    def commit_confirm(self, cand: C.Tree, user: str, minutes: int, comment: str = "") -> CommitResult:
        with self.lock:
            previous = C.clone(self.running) if self.confirm_target is None else self.confirm_target
            res = self.commit(cand, user, comment)
            if res.ok:
                self.cancel_confirm(keep_target=True)
                self.confirm_target = previous
                t = threading.Timer(minutes * minute_seconds(), self._confirm_expired)
                t.daemon = True
                self.confirm_timer = t
                t.start()
            return res

    def confirm(self) -> bool:
        with self.lock:
            pending = self.confirm_timer is not None
            self.cancel_confirm()
            return pending

    def cancel_confirm(self, keep_target: bool = False) -> None:
        if self.confirm_timer is not None:
            self.confirm_timer.cancel()
        self.confirm_timer = None
        if not keep_target:
            self.confirm_target = None

    def _confirm_expired(self) -> None:
        with self.lock:
            target = self.confirm_target
            self.confirm_timer = None
            self.confirm_target = None
            if target is not None:
                self._commit(target, "root", "commit-confirm", "rollback: commit-confirm was not confirmed")

    # ------------------------------------------------------------ save

    def save(self, name: str = "/config/config.boot") -> Path:
        with self.lock:
            target = self.resolve_file(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_text(self.boot_text(self.running))
            os.replace(tmp, target)
            return target


class _Failed(Exception):
    def __init__(self, section: str, message: str) -> None:
        super().__init__(message)
        self.section = section
        self.message = message


def _failure(errs: list[tuple[str, str]]) -> list[str]:
    """VyOS 1.4's commit failure text: each failing section, then `Commit failed`."""
    out: list[str] = []
    for section, msg in errs:
        out += [f"[ {section} ]", msg, "", f"[[{section}]] failed"]
    return out + ["Commit failed"]
