"""Site-model clusters for router tests (no Terraform or Kubernetes needed)."""

from __future__ import annotations

from inventory.model import Cluster, Credentials, Node, Pool, Router, Speaker, WireGuard

ROUTER_WG_KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
VENUE_PUBLIC_KEY = "VCFgSmpLXoTRmNpgEQn69w7SVTktFD6r0hVbO+EmcHY="


def cluster(
    speakers: int = 3,
    node_subnet: str = "proxy-arp",
    asns: list[int] | None = None,
    wireguard: bool = True,
    password_env: str | None = None,
) -> Cluster:
    base = "203.0.113.1" if node_subnet == "proxy-arp" else "192.168.100.1"
    nodes = [Node(name=f"k8s-node-{i}-server-prd", address=f"{base}{i}") for i in range(1, speakers + 1)]
    asns = asns or [65021] * speakers
    bgp = {"password": {"env": password_env}} if password_env else {}
    return Cluster(
        name="prd",
        node_subnet=node_subnet,  # type: ignore[arg-type]
        router=Router(
            name="k8s-router-1-prd",
            management_address="203.0.113.4",
            public_address="203.0.113.4/28",  # type: ignore[arg-type]
            node_address="192.168.100.1/24",  # type: ignore[arg-type]
            bgp=bgp,  # type: ignore[arg-type]
            credentials=Credentials(username="vyos"),
        ),
        nodes=nodes,
        speakers=[Speaker(name=n.name, address=n.address, asn=a) for n, a in zip(nodes, asns, strict=True)],
        pools=[Pool(name="globalIP", addresses=["198.51.100.0/28"])],  # type: ignore[list-item]
        wireguard=WireGuard(
            address="172.16.100.1/30",  # type: ignore[arg-type]
            private_key={"env": "EDGEKIT_TEST_WG_KEY"},  # type: ignore[arg-type]
            peer_public_key=VENUE_PUBLIC_KEY,
            endpoint_address="198.18.0.2",  # type: ignore[arg-type]
            allowed_ips=["172.16.100.2/32", "10.88.0.0/24"],  # type: ignore[list-item]
            venue_networks=["10.88.0.0/24"],  # type: ignore[list-item]
        )
        if wireguard
        else None,
    )
