"""One router's state: running config, revisions, commit (verify + apply), commit-confirm, save, boot.

Runs inside the router daemon, inside the router's network namespace. Commits are serialised by a
lock; they are blocking (subprocesses) and the SSH server calls them from a worker thread.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import config as C
from . import firewall as FW
from . import ledger, rootfs
from .frr import Frr, FrrError, Line, bgp_root, render
from .kernel import (
    ApplyError,
    WireGuard,
    apply_ethernet,
    apply_system_ip,
    interface_exists,
    links,
    private_wireguard_run,
    set_links,
    setup_namespace,
    wg_pubkey,
)
from .ledger import text
from .schema import DIALECTS, build_schema

MAX_REVISIONS = 100
log = logging.getLogger("lab.vyos")


def minute_seconds() -> float:
    """Length of a commit-confirm "minute": the lab may scale it for fast tests."""
    return float(os.environ.get("EDGEKIT_LAB_MINUTE_SECONDS", "60"))


def boot_seconds() -> float:
    """How long a reboot keeps the router down (no SSH, no FRR, no addresses) before it boots again."""
    return float(os.environ.get("EDGEKIT_LAB_BOOT_SECONDS", "3"))


# `show system commit` "via" of the commits the system makes itself (not a CLI user):
# 1.4 boot: vyos-1x src/helpers/vyos-boot-config-loader.py, ConfigSession(os.getpid(), 'vyos-boot-config-loader')
#   (configsession.py sets COMMIT_VIA to the app name); 1.4 soft revert: config_mgmt.py revert_soft(),
#   ConfigSession(..., app='config-mgmt'); 1.3: vyatta-config-mgmt scripts/vyatta-commit-revs.pl defaults
#   COMMIT_VIA to 'other' (the boot, the commit-confirm rollback and `rollback N` set none).
VIA_BOOT = {"1.3": "other", "1.4": "vyos-boot-config-loader"}
VIA_SOFT_REVERT = "config-mgmt"


def _udp_port_free(port: int) -> bool:
    """vyos-1x 1.4.0 python/vyos/utils/network.py check_port_availability('0.0.0.0', port, 'udp'): a UDPServer
    binds it (in the router's namespace) or the port is busy."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("0.0.0.0", port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


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
        # release: the lab version ("1.3", "1.4", "1.5"), the key of its ledger (lab.vyos.ledger.text(r.release,
        # ...)); version: the syntax it speaks ("1.3" or "1.4"; 1.5/rolling speaks 1.4), which the checks test.
        self.release: str = spec.get("version", "1.4")
        self.dialect = DIALECTS[self.release]
        self.version: str = self.dialect.speaks
        self.state = Path(spec["state_dir"])
        self.boot_config: list[str] = list(spec.get("boot_config") or [])
        self.running: C.Tree = {}
        self.revisions: list[Revision] = []
        self.frr = Frr(self.state / "frr")
        self.wg = WireGuard(self.state, self.version)
        self.frr_lines: list[Line] = []
        self.fw_text: str | None = None  # the nft script applied last (None: unknown, apply whatever comes)
        self.lock = threading.RLock()
        # whether this release knows `system config-management commit-confirm action` (T5976): 1.5/rolling only
        self.confirm_action_node: bool = self.dialect.confirm_action_node
        self.schema = build_schema(self.release)
        # commit-confirm: the pending timer (systemd-run unit on 1.4, `at` job on 1.3) and what it needs
        self.confirm_timer: threading.Timer | None = None
        self.confirm_deadline: float = 0.0
        self.confirm_entry: Revision | None = None  # 1.4: the commit's log entry, added on `confirm`
        self.confirm_boot: str | None = None  # 1.3: config.boot as it was at commit-confirm
        self.confirm_notify: list[threading.Timer] = []  # 1.4+: commit-confirm-notify.py's wall broadcasts
        # The logged-in ttys (interactive sessions with a terminal): wall(1) writes to each. Writers are
        # thread-safe (the daemon's sessions hand in a call_soon_threadsafe wrapper).
        self.ttys: set[Callable[[str], None]] = set()
        self.booting = False
        self.own_uts = False  # set by the daemon when it runs in a UTS namespace of its own
        self.own_etc = False  # set by the daemon when /etc/hosts is a bind mount of state/etc/hosts
        self.down_links: list[str] = []
        # Set by the daemon: takes the SSH server down, calls power_off(), waits, power_on(), serves again.
        self.on_reboot: Callable[[], None] | None = None
        for d in ("config", "run", "log", "wireguard"):
            (self.state / d).mkdir(parents=True, exist_ok=True)
        rootfs.own_dirs(self.state)
        archive = self.state / "config" / "archive.json"
        if archive.exists():  # /config/archive survives a reboot and a restart of the daemon
            try:
                self.revisions = [Revision(**r) for r in json.loads(archive.read_text())]
            except (ValueError, TypeError):
                self.revisions = []

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
            f'// vyos-config-version: "edgekit-lab@{self.release}"\n'
            f"// Release version: {self.dialect.version}\n"
        )
        return body + "\n" + footer

    def saved(self) -> C.Tree:
        if not self.config_boot.exists():
            return {}
        return C.build(self.schema, C.parse_boot(self.config_boot.read_text()))

    def resolve_file(self, name: str, cwd: str = "/config") -> Path:
        """The file behind the router path ``name``: the router's own directories (/config, /var/tmp, /tmp,
        /home/vyos) live under state_dir, and the op-mode shell sees the same ones (lab/vyos/rootfs.py).
        Relative names are taken from ``cwd``."""
        target = rootfs.router_path(self.state, name, cwd)
        if target is None:
            raise C.PathError(f"Cannot open configuration file {name}: outside the router's files")
        return target

    # ------------------------------------------------------------ boot / shutdown

    def boot(self) -> None:
        """First start of the daemon: the private /run/wireguard, then power_on()."""
        private_wireguard_run()
        self.power_on()

    def power_on(self) -> None:
        """Boot: FRR starts, the saved config.boot is loaded and committed (boot_config when there is none
        yet, which then becomes config.boot, as an installed image always has one)."""
        with self.lock:
            setup_namespace()
            set_links(self.down_links, up=True)  # the NICs come back; the config then sets them up or down
            self.down_links = []
            self.frr.start()
            self.frr_lines = []
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
            via = "init" if not self.revisions else VIA_BOOT[self.version]
            res = self._commit(tree, "root", via, "", old=old)
            if not res.ok:
                raise RuntimeError("boot configuration failed:\n" + "\n".join(res.lines))
            if not self.config_boot.exists():
                self.save()
            self.booting = False

    def power_off(self) -> None:
        """What a reboot takes away: SSH (the daemon closes it), the commit-confirm timer, WireGuard, FRR
        (zebra removes its routes, BGP sessions drop), every address, proxy-ARP and the links' carrier."""
        with self.lock:
            self.booting = True
            self.cancel_confirm()
            self.wg.stop_all()
            self.frr.stop()
            self.frr_lines = []
            self._drop_firewall()
            apply_ethernet(self.running, {})
            self.down_links = sorted(n for n, link in links().items() if n != "lo" and "UP" in link.get("flags", []))
            set_links(self.down_links, up=False)
            self.running = {}
            (self.state / "run" / "applied.conf").write_text("")

    def request_reboot(self) -> None:
        """`systemctl reboot`: the daemon does it (it owns the SSH server); without a daemon, in place."""
        self.booting = True
        if self.on_reboot is not None:
            self.on_reboot()
        else:  # pragma: no cover - the daemon always sets on_reboot
            self.power_off()
            time.sleep(boot_seconds())
            self.power_on()

    def shutdown(self) -> None:
        self.cancel_confirm()
        self.wg.stop_all()
        self.frr.stop()
        self._drop_firewall()

    def _drop_firewall(self) -> None:
        """A box that is down filters nothing; the boot commit puts the rule sets back."""
        try:
            FW.apply("", self.version)
        except (RuntimeError, OSError) as e:
            log.warning("firewall: %s", e)
        self.fw_text = None

    # ------------------------------------------------------------ verify

    def verify(self, tree: C.Tree) -> list[tuple[str, str]]:
        """Commit-time checks VyOS makes; (section, message) pairs."""
        errs: list[tuple[str, str]] = []
        for ifname in C.sub(tree, "interfaces", "ethernet"):
            if not interface_exists(ifname):
                errs.append(
                    (f"interfaces ethernet {ifname}", text(self.release, "error.interface-missing", ifname=ifname))
                )
        for ifname, cfg in C.sub(tree, "interfaces", "wireguard").items():
            err = self.verify_wireguard(ifname, cfg)
            if err:
                errs.append((f"interfaces wireguard {ifname}", err))
        asn, bgp = bgp_root(tree, self.version)
        errs += self.verify_bgp(asn, bgp)
        errs += self.verify_bfd(tree, bgp, asn)
        errs += FW.verify(tree, self.running, self.version)
        return errs

    def verify_bgp(self, asn: str | None, bgp: C.Tree) -> list[tuple[str, str]]:
        """BGP's commit checks, texts from the ledger (BGP). 1.4: vyos-1x 1.4.0 src/conf_mode/protocols_bgp.py
        verify() (section `protocols bgp`); 1.3: vyatta-cfg-quagga equuleus scripts/bgp/vyatta-bgp.pl
        check_neighbor_parameters / check_bgp_listen and the peer-group node.def commit:expression (sections
        `protocols bgp ASN neighbor N`, ...). The lab keeps one message per section (_failure)."""
        v = self.version
        errs: list[tuple[str, str]] = []
        if v != "1.3" and bgp and asn is None:
            errs.append(("protocols bgp", text(self.release, "bgp.error.system-as")))
        groups = C.sub(bgp, "peer-group")
        for n, cfg in C.sub(bgp, "neighbor").items():
            sec = f"protocols bgp {asn} neighbor {n}" if v == "1.3" else "protocols bgp"

            def died(msg: str, n: str = n) -> tuple[str, str]:
                """1.3: vyatta-bgp.pl --main (the `end:` of protocols bgp ASN) dies with its own `[ path ]` heading
                and a two-space indent; vyatta-cfg then names the failing node `[[protocols bgp ASN]] failed`."""
                return (f"protocols bgp {asn}", f"[ protocols bgp {asn} neighbor {n} ]\n  {msg}")

            pg = C.value(cfg, "peer-group")
            if pg is not None and pg not in groups:
                if v == "1.3":
                    errs.append(
                        (f"{sec} peer-group", text(self.release, "bgp.error.peer-group-missing", asn=asn, pg=pg))
                    )
                else:
                    errs.append((sec, text(self.release, "bgp.error.peer-group-missing", pg=pg, n=n)))
            pg_as = C.has(groups.get(pg or "", {}), "remote-as")
            no_v4 = v == "1.3" and C.has(bgp, "parameters", "default", "no-ipv4-unicast")
            if not C.has(cfg, "remote-as") and not pg_as and not no_v4:
                msg = text(self.release, "bgp.error.remote-as", n=n)
                errs.append(died(msg) if v == "1.3" else (sec, msg))
            if C.has(cfg, "remote-as") and pg_as:
                msg = text(self.release, "bgp.error.remote-as-both", n=n, pg=pg)
                errs.append(died(msg) if v == "1.3" else (sec, msg))
            # 1.4+: vyos-1x 1.4.0/current src/conf_mode/protocols_bgp.py verify(), for neighbors and peer-groups
            # alike (ledger bgp.error.password-whitespace); 1.3's node.def only counts the length (schema).
            if v != "1.3" and " " in (C.value(cfg, "password") or ""):
                errs.append((sec, text(self.release, "bgp.error.password-whitespace")))
        for prefix, rc in C.sub(bgp, "listen", "range").items():
            pg = C.value(rc, "peer-group")
            if pg is None:
                sec = f"protocols bgp {asn} listen range {prefix}" if v == "1.3" else "protocols bgp"
                errs.append((sec, text(self.release, "bgp.error.listen-no-peer-group", prefix=prefix)))
            elif pg not in groups:
                if v == "1.3":  # the peer-group node.def of the listen range: vyatta_quagga_utils.pl --exists
                    msg = text(self.release, "bgp.error.peer-group-missing", asn=asn, pg=pg)
                    errs.append((f"protocols bgp {asn} listen range {prefix} peer-group", msg))
                else:
                    errs.append(
                        (
                            "protocols bgp",
                            text(self.release, "bgp.error.listen-peer-group-missing", pg=pg, prefix=prefix),
                        )
                    )
        return errs

    def verify_wireguard(self, ifname: str, cfg: C.Tree) -> str | None:
        """The first ConfigError of the interface's conf-mode script (it stops there), texts from the ledger's
        WIREGUARD section. 1.3: vyos-1x equuleus src/conf_mode/interfaces-wireguard.py verify(): private-key
        defaults to the keypair `default` (interface-definitions <defaultValue>default</defaultValue>), checked
        as a file; 1.4/1.5: sagitta/current interfaces_wireguard.py verify(): the key is the value itself."""
        from .ledger import text

        rel = self.release
        v13 = self.version == "1.3"
        key = C.value(cfg, "private-key")
        if v13 and self.wg.named_key(key or "default") is None:
            return text(rel, "wireguard.private_key_missing")
        if not v13 and key is None:
            return text(rel, "wireguard.private_key_missing")
        peers = C.sub(cfg, "peer")
        if not peers:
            return text(rel, "wireguard.peer_required")
        port = C.value(cfg, "port")
        old_port = C.value(C.sub(self.running, "interfaces", "wireguard").get(ifname, {}), "port")
        if not v13 and port is not None and port != old_port and not _udp_port_free(int(port)):
            return text(rel, "wireguard.port_busy", port=port)  # is_node_changed(... 'port'): new or changed
        own = self.wg.private_key(cfg)
        own_pub = wg_pubkey(own) if own else None
        seen: list[str] = []
        for peer, pc in sorted(peers.items(), key=lambda kv: C._natural_key(kv[0])):
            if not C.has(pc, "allowed-ips"):
                return text(rel, "wireguard.allowed_ips_required", peer=peer)
            pub = C.value(pc, self.dialect.wg_peer_key)
            if pub is None:
                return text(rel, "wireguard.public_key_required", peer=peer)
            if C.has(pc, "address") != C.has(pc, "port"):
                return text(rel, "wireguard.address_and_port", peer=peer)
            if not v13 and pub in seen:
                return text(rel, "wireguard.duplicate_public_key", peer=peer)
            if not C.has(pc, "disable") and pub == own_pub:
                return text(rel, "wireguard.same_key_as_interface", peer=peer, ifname=ifname)
            seen.append(pub)
        return None

    def verify_bfd(self, tree: C.Tree, bgp: C.Tree, asn: str | None) -> list[tuple[str, str]]:
        """`protocols bfd` (1.3: vyos-1x equuleus src/conf_mode/protocols_bfd.py verify(); 1.4: sagitta
        src/conf_mode/protocols_bfd.py verify(), messages prefixed `BFD`) and BGP's `neighbor X bfd` (1.3:
        vyatta-cfg-quagga equuleus scripts/bgp/vyatta-bgp.pl check_bfd_peer / check_bfd_group; 1.4 checks
        nothing: bgpd asks bfdd for a session of its own)."""
        errs: list[tuple[str, str]] = []
        v13 = self.version == "1.3"
        sec = "protocols bfd"
        bfd = C.sub(tree, "protocols", "bfd")
        for peer, pc in C.sub(bfd, "peer").items():
            src = C.sub(pc, "source")
            if ":" in peer and "address" not in src:
                errs.append((sec, "BFD IPv6 peers require explicit local address setting"))
            if C.has(pc, "multihop"):
                if "address" not in src:
                    msg = "Multihop require source address" if v13 else "BFD multihop require source address"
                    errs.append((sec, msg))
                if "interface" in src:
                    msg = "multihop and source interface cannot be used together"
                    errs.append((sec, msg.capitalize() if v13 else "BFD " + msg))
            prof = C.value(pc, "profile")
            if prof is not None and prof not in C.sub(bfd, "profile"):
                errs.append((sec, f'BFD profile "{prof}" does not exist!'))
        if not v13 or asn is None:
            return errs
        # 1.3 protocols_bfd.py: a deleted peer still used by BGP
        for peer in sorted(set(C.sub(self.running, "protocols", "bfd", "peer")) - set(C.sub(bfd, "peer"))):
            ncfg = C.sub(bgp, "neighbor", peer)
            if C.has(ncfg, "bfd"):
                errs.append((sec, f"Cannot delete BFD peer {peer}: it is used in BGP configuration"))
            pg = C.value(ncfg, "peer-group")
            if pg is not None and C.has(bgp, "peer-group", pg, "bfd"):
                errs.append((sec, f"Cannot delete BFD peer {peer}: it belongs to BGP peer-group {pg} with enabled BFD"))
        # vyatta-bgp.pl commit:expression of neighbor/peer-group bfd
        for n, ncfg in C.sub(bgp, "neighbor").items():
            if C.has(ncfg, "bfd") and n not in C.sub(bfd, "peer"):
                errs.append(
                    (f"protocols bgp {asn} neighbor {n} bfd", "BFD peer need to be configured for using BFD protocol")
                )
        for g, gcfg in C.sub(bgp, "peer-group").items():
            if not C.has(gcfg, "bfd"):
                continue
            members = [n for n, ncfg in C.sub(bgp, "neighbor").items() if C.value(ncfg, "peer-group") == g]
            if any(m not in C.sub(bfd, "peer") for m in members):
                errs.append(
                    (
                        f"protocols bgp {asn} peer-group {g} bfd",
                        f"BFD peers need to be configured for all neighbors in peer-group {g} before enabling for BGP",
                    )
                )
        return errs

    # ------------------------------------------------------------ commit

    def _apply_firewall(self, text: str) -> None:
        if text != self.fw_text:
            FW.apply(text, self.version)
            self.fw_text = text

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
            self._apply_firewall(FW.render(new, self.version))
        except (RuntimeError, OSError) as e:
            raise _Failed("firewall", str(e)) from e
        try:
            self.frr.apply(self.frr_lines, frr_new, self.version)
            self.frr_lines = frr_new
        except FrrError as e:
            raise _Failed("protocols", str(e)) from e

    def _commit(
        self, cand: C.Tree, user: str, via: str, comment: str, old: C.Tree | None = None, log: bool = True
    ) -> CommitResult:
        with self.lock:
            old = self.running if old is None else old
            errs = self.verify(cand)
            frr_new = render(cand, self.version)
            if not errs:
                bad = self.frr.check(frr_new)
                if bad:
                    errs.append(("protocols", bad))
                bad = FW.check(FW.render(cand, self.version), self.version)
                if bad:
                    errs.append(("firewall", bad))
            if errs:
                return CommitResult(False, _failure(errs, self.version))
            try:
                self._apply(old, cand, frr_new)
            except _Failed as e:
                # Put back what was running; every step is full-state, so this undoes a partial apply.
                frr_old = render(old, self.version)
                try:
                    self._apply(cand, old, frr_old)
                except _Failed:
                    pass
                return CommitResult(False, _failure([(e.section, e.message)], self.version))
            self.running = C.clone(cand)
            if self.own_uts:  # the daemon's private UTS namespace: `hostname` follows system host-name
                socket.sethostname(self.host_name())
            self.write_hosts()
            (self.state / "run" / "applied.conf").write_text("\n".join(self.commands()) + "\n")
            if log:
                self.log_revision(Revision(time.time(), user, via, comment, self.commands()))
            return CommitResult(True)

    def write_hosts(self) -> None:
        """/etc/hosts as vyos-hostsd writes it (vyos-1x data/templates/vyos-hostsd/hosts.j2): the host name on
        127.0.1.1. Rewritten in place: the daemon's /etc/hosts is a bind mount of this file."""
        if not self.own_etc:
            return
        (self.state / "etc" / "hosts").write_text(
            "### Autogenerated by VyOS ###\n### Do not edit, your changes will get overwritten ###\n\n"
            f"# Local host\n127.0.0.1       localhost\n127.0.1.1       {self.host_name()}\n\n"
            "# The following lines are desirable for IPv6 capable hosts\n"
            "::1             localhost ip6-localhost ip6-loopback\nfe00::0         ip6-localnet\n"
            "ff00::0         ip6-mcastprefix\nff02::1         ip6-allnodes\nff02::2         ip6-allrouters\n"
        )

    def log_revision(self, rev: Revision, always: bool = False) -> None:
        """A commit is archived and logged only when the config differs from the last archived one
        (1.4: vyos-1x config_mgmt.py commit_revision() -> _archive_active_config(); 1.3: vyatta-config-mgmt
        vyatta-commit-revs.pl compares with the last commit file and exits when equal)."""
        with self.lock:
            if not always and self.revisions and self.revisions[0].config == rev.config:
                return
            self.revisions.insert(0, rev)
            del self.revisions[MAX_REVISIONS:]
            self._write_archive()

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
    #
    # 1.4: vyos-1x python/vyos/config_mgmt.py (sagitta) commit_confirm()/confirm()/revert(): the timer is a
    #   systemd-run unit started *before* the commit (vyatta-cfg functions/interpreter/vyatta-cfg-run,
    #   vyatta_config_commit-confirm, sagitta), which then runs with IN_COMMIT_CONFIRM set: the commit is not
    #   logged until `confirm`. Expiry runs `config-mgmt revert` = `systemctl reboot` into config.boot, or,
    #   with `system config-management commit-confirm action reload` (T5976, vyos-1x current), revert_soft():
    #   revision 0 is loaded and committed in place.
    # 1.3: vyatta-config-mgmt scripts/vyatta-config-mgmt.pl (equuleus) --action=commit-confirm copies
    #   config.boot and schedules `--action rollback --file COPY` with `at` before the (normal, logged)
    #   commit; expiry writes the copy to config.boot, logs a revision and reboots.

    def pending(self) -> bool:
        return self.confirm_timer is not None

    def reboot_unconfirmed(self, cand: C.Tree) -> bool:
        """config_mgmt.py reads `system config-management commit-confirm action` (default reboot) from the
        session's config; 1.3 and a 1.4 without the node always reboot."""
        if not self.confirm_action_node:
            return True
        return C.value(cand, "system", "config-management", "commit-confirm", "action") != "reload"

    def unsaved_commits(self) -> bool:
        """config_mgmt.py unsaved_commits(): the running config saved to a file differs from config.boot."""
        with self.lock:
            if not self.config_boot.exists():
                return True
            return self.boot_text(self.running) != self.config_boot.read_text()

    def start_confirm_timer(self, minutes: int, reboot: bool) -> None:
        """The timer starts when the question is answered, before the commit runs (and whatever it does)."""
        with self.lock:
            self.confirm_boot = None
            if self.version == "1.3":
                self.confirm_boot = self.config_boot.read_text() if self.config_boot.exists() else ""
            t = threading.Timer(minutes * minute_seconds(), self._confirm_expired, args=(reboot,))
            t.daemon = True
            self.confirm_timer = t
            self.confirm_deadline = time.time() + minutes * minute_seconds()
            t.start()
            if self.version != "1.3":
                self._start_notify(minutes, reboot)

    # The countdown (ledger LIFECYCLE wall.countdown): vyos-1x src/helpers/commit-confirm-notify.py, started
    # by config_mgmt.py commit_confirm() right after the timer (`sudo -b ... commit-confirm-notify.py N`),
    # killed by confirm() (`pkill -f commit-confirm-notify.py`). 1.3 has none (vyatta-config-mgmt.pl: `at`).

    def ledger_version(self) -> str:
        """Whose texts this router prints: its release's ledger (1.3 equuleus, 1.4 sagitta, 1.5 vyos-1x current)."""
        return self.release

    @staticmethod
    def notify_schedule(minutes: int) -> list[tuple[int, int]]:
        """(minutes after the start, minutes left) of each broadcast: commit-confirm-notify.py's loop over
        sorted([1, 5, 15, 60], reverse=True) without N itself, sleeping (N - I) minutes before interval I."""
        intervals = [1, 5, 15, 60]
        if minutes in intervals:
            intervals.remove(minutes)
        return [(minutes - i, i) for i in sorted(intervals, reverse=True) if minutes >= i]

    def _start_notify(self, minutes: int, reboot: bool) -> None:
        key = "wall.countdown" if reboot else "wall.countdown_reload"
        for at, left in self.notify_schedule(minutes):
            text = ledger.text(self.ledger_version(), key, interval=left, s="" if left == 1 else "s")
            t = threading.Timer(at * minute_seconds(), self.wall, args=(text,))
            t.daemon = True
            self.confirm_notify.append(t)
            t.start()

    def wall(self, message: str) -> None:
        """`wall -n MESSAGE` (util-linux 2.38 term-utils/wall.c makemsg(): a line of 79 spaces, the message,
        a line of 79 spaces) to every logged-in tty, wherever its output is at that moment."""
        text = f"{' ' * 79}\n{message}\n{' ' * 79}\n"
        for write in list(self.ttys):
            try:
                write(text)
            except Exception:  # a session going away
                self.ttys.discard(write)

    def commit_confirmed(self, cand: C.Tree, user: str, comment: str = "") -> CommitResult:
        """The commit of commit-confirm: 1.4 keeps its log entry aside until `confirm`; 1.3 logs it at once."""
        with self.lock:
            if self.version == "1.3":
                return self._commit(C.clone(cand), user, "cli", comment)
            res = self._commit(C.clone(cand), user, "cli", comment, log=False)
            if res.ok:
                self.confirm_entry = Revision(time.time(), user, "cli", comment, self.commands())
            return res

    def confirm(self) -> bool:
        """Stop the timer; 1.4 logs the commit-confirm's entry (if the config differs from the archive)."""
        with self.lock:
            if self.confirm_timer is None:
                return False
            entry = self.confirm_entry
            self.cancel_confirm()
            if entry is not None and self.version != "1.3":
                self.log_revision(Revision(entry.time, entry.user, entry.via, entry.comment, self.commands()))
            return True

    def cancel_confirm(self) -> None:
        for t in self.confirm_notify:
            t.cancel()
        self.confirm_notify = []
        if self.confirm_timer is not None:
            self.confirm_timer.cancel()
        self.confirm_timer = None
        self.confirm_entry = None
        self.confirm_boot = None
        self.confirm_deadline = 0.0

    def _confirm_expired(self, reboot: bool) -> None:
        with self.lock:
            if self.confirm_timer is None:
                return
            boot_copy = self.confirm_boot
            self.cancel_confirm()
            if self.version == "1.3":
                # vyatta-config-mgmt.pl --action rollback --file: config.boot := the copy, a logged revision
                # (vyatta-commit-revs.pl --rollback, user root, via other), then /sbin/reboot.
                if boot_copy is not None:
                    self.config_boot.write_text(boot_copy)
                tree = self.saved()
                self.log_revision(Revision(time.time(), "root", VIA_BOOT["1.3"], "", self.commands(tree)), always=True)
                self.request_reboot()
                return
            if reboot:  # config_mgmt.py revert(): `systemctl reboot`; the saved config.boot comes back
                self.request_reboot()
                return
            # config_mgmt.py revert_soft(): revision 0 (the commit-confirm's commit was never logged),
            # load_explicit + commit by a ConfigSession(app='config-mgmt') run as root by systemd; it walls
            # first (ledger LIFECYCLE wall.revert_soft).
            self.wall(ledger.text(self.ledger_version(), "wall.revert_soft"))
            target = self.revision(0)
            if target is not None:
                res = self._commit(target, "root", VIA_SOFT_REVERT, "")
                if not res.ok:
                    log.error("commit-confirm revert failed: %s", " / ".join(res.lines))

    def rollback_to(self, n: int, user: str) -> None:
        """`rollback N`: config.boot := revision N, then a reboot (1.4 config_mgmt.py rollback(); 1.3
        vyatta-config-mgmt.pl --action rollback --revnum, which also logs a revision, via other)."""
        with self.lock:
            rev = self.revisions[n]
            tree = C.build(self.schema, C.parse_set_lines(rev.config))
            self.config_boot.write_text(self.boot_text(tree))
            if self.version == "1.3":
                self.log_revision(Revision(time.time(), user, VIA_BOOT["1.3"], "", list(rev.config)), always=True)
        self.request_reboot()

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


def _failure(errs: list[tuple[str, str]], version: str = "1.4") -> list[str]:
    """The commit failure text: each failing section with its first error only (a conf-mode script stops at
    its first ConfigError; a node.def's commit check dies at its first), `[[section]] failed`, then
    the closing line (ledger ERRORS error.commit.*: vyatta-cfg src/commit/commit-algorithm.cpp)."""
    out: list[str] = []
    seen: set[str] = set()
    for section, msg in errs:
        if section in seen:
            continue
        seen.add(section)
        head = [] if msg.startswith("[ ") else [f"[ {section} ]"]  # a script that prints its own heading
        out += [*head, msg, "", text(version, "error.commit.failed-section", section=section)]
    return out + [text(version, "error.commit.failed")]
