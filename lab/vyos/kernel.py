"""Interfaces, proxy-ARP and WireGuard in the router's namespace (the daemon runs inside it).

Everything here is full-state and idempotent: ``apply(old, new)`` makes the namespace match ``new``
for every interface either config mentions, so re-applying ``old`` after a failure undoes a partial
commit.

WireGuard: wireguard-go's control socket ``/run/wireguard/<if>.sock`` is machine-wide, so the daemon
mounts a private tmpfs there (it runs in the mount namespace ``ip netns exec`` made for it, whose
mounts do not propagate back); its wireguard-go children and ``wg`` calls inherit that view.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import socket
import subprocess
import time
from pathlib import Path

from .config import Tree, has, sub, value, values
from .frr import pid_alive, stop_pidfile

WG_RUN = Path("/run/wireguard")


class ApplyError(Exception):
    pass


def run(*args: str, input: str | None = None) -> str:
    p = subprocess.run(list(args), capture_output=True, text=True, input=input, timeout=30)
    if p.returncode != 0:
        raise ApplyError(f"{' '.join(args)}: {(p.stderr or p.stdout).strip()}")
    return p.stdout


def private_wireguard_run() -> None:
    """Give this process (and its children) a private /run/wireguard."""
    WG_RUN.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs", str(WG_RUN)], check=True, timeout=10)


def links() -> dict[str, dict]:
    """Interfaces with their addresses; `ip -j addr` omits the alias (description) and the link kind
    (a VRF master), `ip -j -d link` has them (vyos-1x python/vyos/ifconfig/interface.py reads both there)."""
    out = {link["ifname"]: link for link in json.loads(run("ip", "-j", "addr", "show"))}
    for link in json.loads(run("ip", "-j", "-d", "link", "show")):
        if link["ifname"] in out:
            for key in ("ifalias", "linkinfo"):
                if key in link:
                    out[link["ifname"]][key] = link[key]
    return out


def set_links(names: list[str], up: bool) -> None:
    """Carrier of the router's links: a rebooting box's NICs go down (the peers see NO-CARRIER)."""
    for name in names:
        run("ip", "link", "set", "dev", name, "up" if up else "down")


def interface_exists(name: str) -> bool:
    return Path(f"/sys/class/net/{name}").exists()


def _sysctl(path: str, val: str) -> None:
    Path("/proc/sys", path.replace(".", "/")).write_text(val + "\n")


def setup_namespace() -> None:
    """What a router always has: forwarding on."""
    _sysctl("net.ipv4.ip_forward", "1")
    _sysctl("net.ipv4.conf.all.forwarding", "1")
    run("ip", "link", "set", "lo", "up")


def _addresses(link: dict) -> set[str]:
    out = set()
    for a in link.get("addr_info", []):
        if a.get("scope") == "link" or a.get("family") not in ("inet", "inet6"):
            continue
        out.add(str(ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}")))
    return out


def _norm(addr: str) -> str:
    return str(ipaddress.ip_interface(addr))


def _sync_interface(name: str, cfg: Tree | None, current: dict | None) -> None:
    want = {_norm(a) for a in values(cfg or {}, "address")}
    have = _addresses(current) if current else set()
    for a in sorted(have - want):
        run("ip", "addr", "del", a, "dev", name)
    for a in values(cfg or {}, "address"):
        if _norm(a) not in have:
            run("ip", "addr", "add", a, "dev", name)
    alias = value(cfg or {}, "description") or ""
    if (current or {}).get("ifalias", "") != alias:
        run("ip", "link", "set", "dev", name, "alias", alias)
    if cfg is not None and has(cfg, "mtu"):
        run("ip", "link", "set", "dev", name, "mtu", value(cfg, "mtu") or "1500")
    run("ip", "link", "set", "dev", name, "down" if cfg is not None and has(cfg, "disable") else "up")


def apply_system_ip(new: Tree) -> None:
    """`system ip multipath layer4-hashing`: spread flows of one client over all ECMP next hops."""
    layer4 = has(sub(new, "system", "ip", "multipath"), "layer4-hashing")
    _sysctl("net.ipv4.fib_multipath_hash_policy", "1" if layer4 else "0")


def apply_ethernet(old: Tree, new: Tree) -> None:
    cur = links()
    names = set(sub(old, "interfaces", "ethernet")) | set(sub(new, "interfaces", "ethernet"))
    for name in sorted(names):
        if name not in cur:
            continue
        cfg = sub(new, "interfaces", "ethernet").get(name)
        _sync_interface(name, cfg, cur[name])
        proxy = cfg is not None and has(cfg, "ip", "enable-proxy-arp")
        _sysctl(f"net.ipv4.conf.{name}.proxy_arp", "1" if proxy else "0")
        # A router answers proxy-ARP at once; the kernel default delays replies up to 0.8 s.
        _sysctl(f"net.ipv4.neigh.{name}.proxy_delay", "0" if proxy else "80")


# ---------------------------------------------------------------- WireGuard


def wg_pubkey(private_b64: str) -> str:
    return run("wg", "pubkey", input=private_b64 + "\n").strip()


def wg_genkey() -> tuple[str, str]:
    priv = run("wg", "genkey").strip()
    return priv, wg_pubkey(priv)


class WireGuard:
    def __init__(self, state_dir: Path, version: str) -> None:
        self.state = state_dir
        self.version = version
        self.keys = state_dir / "wireguard" / "keys"  # 1.3 named keypairs: NAME.key / NAME.pub
        self.run_dir = state_dir / "run"

    def pidfile(self, ifname: str) -> Path:
        return self.run_dir / f"wireguard-go.{ifname}.pid"

    def named_key(self, name: str) -> str | None:
        f = self.keys / f"{name}.key"
        return f.read_text().strip() if f.exists() else None

    def generate_named(self, name: str) -> str:
        self.keys.mkdir(parents=True, exist_ok=True)
        priv, pub = wg_genkey()
        (self.keys / f"{name}.key").write_text(priv + "\n")
        os.chmod(self.keys / f"{name}.key", 0o600)
        (self.keys / f"{name}.pub").write_text(pub + "\n")
        return pub

    def private_key(self, cfg: Tree) -> str | None:
        key = value(cfg, "private-key")
        if self.version == "1.3":  # equuleus: `private-key` defaults to the keypair named `default`
            return self.named_key(key or "default")
        return key

    def _running(self, ifname: str) -> bool:
        try:
            pid = int(self.pidfile(ifname).read_text())
        except (OSError, ValueError):
            return False
        return pid_alive(pid) and interface_exists(ifname)

    def _start(self, ifname: str) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.state / "log" / f"wireguard-go.{ifname}.log", "ab")
        env = dict(os.environ, WG_PROCESS_FOREGROUND="1", LOG_LEVEL="error")
        p = subprocess.Popen(["wireguard-go", "-f", ifname], stdout=log, stderr=log, env=env, start_new_session=True)
        log.close()
        self.pidfile(ifname).write_text(f"{p.pid}\n")
        # Ready when its UAPI socket accepts a connection, not when the file exists: wireguard-go binds before it
        # listens, and wg(8) (wireguard-tools src/ipc-uapi-unix.h userspace_has_wireguard_interface) falls back
        # to the kernel's netlink family when connect() is refused -> "Protocol not supported" on a loaded host.
        end = time.monotonic() + 5
        while not _accepts(WG_RUN / f"{ifname}.sock"):
            if p.poll() is not None or time.monotonic() > end:
                raise ApplyError(f"wireguard-go for {ifname} did not start")
            time.sleep(0.01)

    def stop(self, ifname: str) -> None:
        stop_pidfile(self.pidfile(ifname))
        (WG_RUN / f"{ifname}.sock").unlink(missing_ok=True)

    def stop_all(self) -> None:
        for f in self.run_dir.glob("wireguard-go.*.pid"):
            stop_pidfile(f)

    def apply(self, old: Tree, new: Tree) -> None:
        olds, news = sub(old, "interfaces", "wireguard"), sub(new, "interfaces", "wireguard")
        for ifname in sorted(set(olds) - set(news)):
            self.stop(ifname)
        peer_key = "pubkey" if self.version == "1.3" else "public-key"
        for ifname, cfg in sorted(news.items()):
            old_peers, new_peers = sub(olds.get(ifname, {}), "peer"), sub(cfg, "peer")
            if self.version != "1.3" and ifname in olds and old_peers != new_peers and self._running(ifname):
                # 1.4/1.5: vyos-1x sagitta and current src/conf_mode/interfaces_wireguard.py (T4702): a change under
                # `peer` sets rebuild_required and apply() runs wg.remove() before WireGuardIf(...).update(): the
                # interface goes (addresses, routes, every peer's session) and is created again.
                self.stop(ifname)
            if not self._running(ifname):
                self.stop(ifname)
                self._start(ifname)
            elif self.version == "1.3":
                # 1.3: vyos-1x equuleus src/conf_mode/interfaces-wireguard.py get_config() (T4702): each peer with a
                # change is put in peer_remove (by its old pubkey) and removed before update() adds it again: that
                # peer's session restarts, the interface and the other peers stay.
                for name, pc in sorted(old_peers.items()):
                    if new_peers.get(name) != pc and value(pc, peer_key):
                        run("wg", "set", ifname, "peer", value(pc, peer_key) or "", "remove")
            conf = ["[Interface]"]
            priv = self.private_key(cfg)
            if priv:
                conf.append(f"PrivateKey = {priv}")
            if has(cfg, "port"):
                conf.append(f"ListenPort = {value(cfg, 'port')}")
            for peer in sub(cfg, "peer").values():
                if has(peer, "disable"):
                    continue
                conf += ["", "[Peer]", f"PublicKey = {value(peer, peer_key)}"]
                if values(peer, "allowed-ips"):
                    conf.append(f"AllowedIPs = {', '.join(values(peer, 'allowed-ips'))}")
                if has(peer, "address") and has(peer, "port"):
                    addr = value(peer, "address") or ""
                    host = f"[{addr}]" if ":" in addr else addr
                    conf.append(f"Endpoint = {host}:{value(peer, 'port')}")
                if has(peer, "persistent-keepalive"):
                    conf.append(f"PersistentKeepalive = {value(peer, 'persistent-keepalive')}")
            f = self.state / "wireguard" / f"{ifname}.conf"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text("\n".join(conf) + "\n")
            os.chmod(f, 0o600)
            # syncconf, not setconf: a commit that leaves a peer alone must not reset its session or the
            # endpoint it roamed to (VyOS runs interfaces_wireguard.py only for a changed interface, and
            # vyos-1x python/vyos/ifconfig/wireguard.py update() changes it with `wg set`, peer by peer).
            run("wg", "syncconf", ifname, str(f))
        cur = links()
        for ifname, cfg in sorted(news.items()):
            _sync_interface(ifname, cfg, cur.get(ifname))


def _accepts(path: Path) -> bool:
    """Whether a unix stream socket at ``path`` accepts connections."""
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True


def valid_key(b64: str) -> bool:
    try:
        return len(base64.b64decode(b64, validate=True)) == 32
    except ValueError:
        return False
