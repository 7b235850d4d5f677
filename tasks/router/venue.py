"""The venue side of a router's WireGuard tunnel, as a wg-quick ``[Peer]`` stanza (``render --venue``).

The venue team pastes it into their wg-quick file: the router's public key, its public endpoint, and as
AllowedIPs the tunnel network plus the venue-scoped MetalLB pools (the only pools the router lets the venue,
and only the venue, reach: templates/vyos/firewall.j2). The router's public key is derived from its private
key when the site file's reference resolves (VyOS 1.4 takes the key from edgekit); on VyOS 1.3 the key is a
keypair generated on the router, so it is read from the router (``show wireguard keypairs pubkey NAME``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from ipaddress import IPv4Network

from inventory.errors import InputError, MissingFact
from inventory.model import Cluster
from inventory.secrets import K8sSecretReader, is_wireguard_key
from tasks.router.dialect import Dialect
from tasks.router.render import require_router

Show = Callable[[str], str]


def public_key_from_private(private_key: str) -> str:
    """The WireGuard (X25519) public key of a base64 private key, as ``wg pubkey`` prints it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    if not is_wireguard_key(private_key):
        raise InputError("not a WireGuard private key (32 bytes, base64)")
    key = X25519PrivateKey.from_private_bytes(base64.b64decode(private_key))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def router_public_key(
    cluster: Cluster, dialect: Dialect, k8s_reader: K8sSecretReader | None = None, show: Show | None = None
) -> str:
    """The router's WireGuard public key: derived from the private key (1.4), else read from the router."""
    cluster.require("wireguard")
    wg = cluster.wireguard
    assert wg is not None
    if not dialect.wireguard_named_keys:
        private = wg.private_key.resolve(k8s_reader, field=f"clusters.{cluster.name}.wireguard.private_key")
        return public_key_from_private(private.get_secret_value())
    if show is None:
        raise MissingFact(
            f"VyOS {dialect.version} keeps the WireGuard key on the router (keypair {wg.key_name!r}): "
            "render --venue without --vyos to read it",
            path=f"clusters.{cluster.name}.wireguard.key_name",
        )
    key = show(f"show wireguard keypairs pubkey {wg.key_name}").strip()
    if not is_wireguard_key(key):
        raise MissingFact(
            f"the router has no WireGuard keypair {wg.key_name!r} yet (router deploy generates it)",
            path=f"clusters.{cluster.name}.wireguard.key_name",
        )
    return key


def venue_allowed_ips(cluster: Cluster) -> list[IPv4Network]:
    """What the venue routes into the tunnel: the tunnel network and the venue-scoped pools."""
    assert cluster.wireguard is not None
    nets = [cluster.wireguard.address.network]
    for pool in cluster.venue_pools:
        nets.extend(n for n in pool.addresses if n not in nets)
    return nets


def venue_stanza(cluster: Cluster, public_key: str) -> str:
    """The wg-quick ``[Peer]`` section the venue adds for this cluster's router."""
    router = require_router(cluster)
    cluster.require("wireguard")
    wg = cluster.wireguard
    assert wg is not None
    lines = [
        f"# {cluster.name}: router {router.name} (venue side of {wg.interface}; the venue's tunnel address is one of "
        + ", ".join(str(n) for n in wg.allowed_ips if n.subnet_of(wg.address.network))
        + ")",
        "[Peer]",
        f"PublicKey = {public_key}",
        f"Endpoint = {router.public_address.ip}:{wg.port}",
        "AllowedIPs = " + ", ".join(str(n) for n in venue_allowed_ips(cluster)),
    ]
    if wg.keepalive:
        lines.append(f"PersistentKeepalive = {wg.keepalive}")
    return "\n".join(lines) + "\n"
