"""One cluster's model: its router, masters and nodes, WireGuard and API LB from its hosts and the site file;
what Kubernetes says comes in through ``inventory.reconcile``."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from inventory import kube
from inventory.errors import InputError, from_validation
from inventory.hosts import HostBuilder, HostFacts, nic_index, site_path
from inventory.model import (
    BFD,
    BGP,
    ApiLB,
    Cluster,
    Credentials,
    LoadBalancer,
    Master,
    MetalLBIntent,
    Node,
    NodeSelector,
    Router,
    SelectorRequirement,
    WireGuard,
)
from inventory.reconcile import KubeView, reconcile
from inventory.secrets import MASK

DEFAULT_ROUTER_ASN = 65020
M = TypeVar("M", bound=BaseModel)
DEFAULT_LB_PRIORITIES = (150, 101)
DEFAULT_USERNAMES: dict[str, str] = {"router": "vyos", "lb": "ubuntu"}


class ClusterBuilder(HostBuilder):
    """Builds one cluster's ``Cluster`` (after ``collect_hosts()``) from its hosts, the site file and Kubernetes."""

    def _validate(self, cls: type[M], site_path: str, **kwargs: Any) -> M:
        try:
            return cls(**kwargs)
        except ValidationError as exc:
            raise from_validation(exc, source=self.site_label, prefix=site_path.split(".")) from None

    def _credentials(self, role: str) -> Credentials:
        section = self.cf.router if role == "router" else self.cf.lb
        creds = section.credentials if section and section.credentials else None
        values = creds.model_dump(exclude_none=True) if creds else {}
        values.setdefault("username", DEFAULT_USERNAMES[role])
        if creds is not None and creds.password is not None:
            values["password"] = creds.password
        return self._validate(
            Credentials,
            site_path(self.sitefile, self.name, f"{'router' if role == 'router' else 'lb'}.credentials"),
            **values,
        )

    def build(self, facts: kube.KubeFacts | None) -> Cluster:
        cf = self.cf
        hosts = {r: [h for h in self.hosts if h.role == r] for r in ("router", "lb", "master", "node")}
        nic = nic_index(cf.router.node_interface if cf.router and cf.router.node_interface else "eth1")
        gateway = next((self.servers[h.name].gateway for h in self.hosts if self.servers[h.name].gateway), None)

        # Router
        routers: list[Router] = []
        router_asn = cf.router.asn if cf.router and cf.router.asn else DEFAULT_ROUTER_ASN
        bgp_values = cf.router.bgp.model_dump(exclude_none=True) if cf.router and cf.router.bgp else {}
        if cf.router and cf.router.bgp and cf.router.bgp.password is not None:
            bgp_values["password"] = cf.router.bgp.password
        bgp = self._validate(BGP, site_path(self.sitefile, self.name, "router.bgp"), asn=router_asn, **bgp_values)
        if not hosts["router"]:
            self.missing["router"] = f"no server in the state has the router role ({self.state.source})"
        if len(hosts["router"]) > 1:
            self.warn(f"{self.name}: {len(hosts['router'])} routers; the model's router is {hosts['router'][0].name}")
        for h in hosts["router"]:
            h.credentials = self._credentials("router")
            node_address = h.addresses.get(nic)
            if node_address is None:
                self.missing["router.node_address"] = (
                    f"router {h.name} has no node-side address (NIC {nic}): set router.node_address in the site "
                    "file or publish it as the Terraform output k8s_router_internal_ipaddress"
                )
                continue
            rf = cf.router
            routers.append(
                self._validate(
                    Router,
                    site_path(self.sitefile, self.name, "router"),
                    name=h.name,
                    management_address=h.hostname,
                    dialect=(rf.dialect if rf and rf.dialect else "auto"),
                    public_interface=(rf.public_interface if rf and rf.public_interface else "eth0"),
                    public_address=(rf.public_address if rf and rf.public_address else h.addresses[0]),
                    node_interface=(rf.node_interface if rf and rf.node_interface else f"eth{nic}"),
                    node_address=node_address,
                    description=(rf.description if rf and rf.description else "k8s-nodes"),
                    bgp=bgp,
                    credentials=h.credentials,
                    revert_in_place=(rf.revert_in_place if rf and rf.revert_in_place is not None else True),
                    venue_firewall=(
                        rf.venue_firewall.model_dump(exclude_none=True) if rf and rf.venue_firewall else {}
                    ),
                )
            )
        router = routers[0] if routers else None

        # Nodes and masters (tfstate)
        apiserver_port = cf.apiserver_port or 6443
        masters = [
            Master(
                name=h.name,
                address=h.addresses[0].ip,
                internal_address=h.addresses[1].ip if 1 in h.addresses else None,
                apiserver_port=apiserver_port,
                tainted=h.tainted,
            )
            for h in hosts["master"]
        ]
        nodes = [
            Node(
                name=h.name,
                address=h.addresses[0].ip,
                internal_address=h.addresses[1].ip if 1 in h.addresses else None,
                tainted=h.tainted,
            )
            for h in hosts["node"]
        ]

        # Kubernetes
        view = reconcile(self, facts, router, router_asn, nodes, masters)
        nodes = view.nodes

        # node subnet
        wanted = cf.node_subnet or "auto"
        node_subnet: Literal["proxy-arp", "private"]
        if wanted == "auto":
            if router and nodes and all(n.address in router.node_address.network for n in nodes):
                node_subnet = "private"
            else:
                node_subnet = "proxy-arp"
        else:
            node_subnet = wanted

        bfd = self._validate(
            BFD, site_path(self.sitefile, self.name, "bfd"), **(cf.bfd.model_dump(exclude_none=True) if cf.bfd else {})
        )
        cluster = Cluster(
            name=self.name,
            order=self.order,
            router=router,
            speakers=view.speakers,
            nodes=nodes,
            masters=masters,
            pools=view.pools,
            services=view.services,
            wireguard=self._wireguard(),
            api_lb=self._api_lb(hosts["lb"]),
            metallb=self._metallb(router, view, node_subnet, bfd),
            node_subnet=node_subnet,
            bfd=bfd,
            missing=self.missing,
            warnings=self.warnings,
            gateway=gateway,
            speakers_source=view.speakers_source,
            metallb_peers=view.peers,
            disagreements=self.disagreements,
            refused=view.refused,
        )
        if cluster.bfd_mismatch:  # the router's BFD waits for MetalLB's (Cluster.router_bfd)
            self.warn(f"{self.name}: BFD not rendered on the router yet: {cluster.bfd_mismatch}")
            cluster = cluster.model_copy(update={"warnings": list(self.warnings)})
        return cluster

    def _metallb(self, router: Router | None, view: KubeView, node_subnet: str, bfd: BFD) -> MetalLBIntent | None:
        """MetalLB's intent: the site's ``metallb`` section, its peer side derived from the router.

        Pools: the site file's ``metallb.pools``; without them the router's pools as today (Kubernetes, else
        tfstate), so a site file that says nothing renders what the cluster already has. The peer address is
        the router address the speakers reach (bgp.j2: the public address when nodes sit on the public
        subnet behind proxy-ARP, else the node-side address); peerASN the router's, myASN the speakers'.
        """
        if router is None or not view.pools:
            return None  # the router or the pools are in ``missing`` already
        mf = self.cf.metallb
        pools, source = (view.site_pools, "site") if view.site_pools else (view.pools, view.pools_source)
        if source == "none":
            return None
        if source == "tfstate":  # named after its Terraform output: a Kubernetes object name has no "_"
            pools = [p.model_copy(update={"name": p.name.replace("_", "-")}) for p in pools]
        selectors = [
            NodeSelector(
                match_labels=dict(s.match_labels),
                match_expressions=[
                    SelectorRequirement(key=e.key, operator=e.operator, values=list(e.values))
                    for e in s.match_expressions
                ],
            )
            for s in (mf.node_selectors or [] if mf else [])
        ]
        for i, sel in enumerate(selectors):
            for where, why in kube.selector_errors(sel):
                raise InputError(
                    why,
                    source=self.site_label,
                    path=site_path(self.sitefile, self.name, "metallb.node_selectors") + f"[{i}].{where}",
                )
        namespace = (mf.namespace if mf and mf.namespace else None) or view.metallb_namespace or kube.METALLB_NS
        if not kube.DNS1123_LABEL.match(namespace):
            raise InputError(
                f"{namespace!r} is not a Kubernetes namespace name (lower case letters, digits, '-')",
                source=self.site_label,
                path=site_path(self.sitefile, self.name, "metallb.namespace"),
            )
        peer = router.public_address.ip if node_subnet == "proxy-arp" else router.node_address.ip
        return self._validate(
            MetalLBIntent,
            site_path(self.sitefile, self.name, "metallb"),
            form=(mf.form if mf and mf.form else "auto"),
            namespace=namespace,
            pools=pools,
            pools_source=source,
            peer_name=(mf.peer_name if mf and mf.peer_name else None),
            declared=mf is not None,
            peer_address=peer,
            peer_asn=router.bgp.asn,
            my_asn=view.speaker_asn,
            hold_time=router.bgp.holdtime,
            keepalive_time=router.bgp.keepalive,
            password=router.bgp.password,
            node_selectors=selectors,
            bfd=bfd if bfd.enabled else None,
            ebgp_multihop=bfd.enabled and node_subnet == "proxy-arp",  # Cluster.bfd_multihop: the other end
        )

    def _wireguard(self) -> WireGuard | None:
        wf = self.cf.wireguard
        if wf is None:
            self.missing["wireguard"] = (
                f"no wireguard section for cluster {self.name} in the site file (clusters.{self.name}.wireguard "
                "or defaults.wireguard)"
            )
            return None
        required = ["address", "private_key", "peer_public_key", "endpoint", "allowed_ips"]
        absent = [f for f in required if getattr(wf, f) is None]
        for f in absent:
            self.missing[f"wireguard.{f}"] = f"wireguard.{f} is not set in the site file"
        if absent:
            return None
        assert wf.endpoint is not None
        host, _, port = wf.endpoint.rpartition(":")
        epath = site_path(self.sitefile, self.name, "wireguard.endpoint")
        try:
            endpoint = IPv4Address(host)
            endpoint_port = int(port)
        except ValueError:
            raise InputError(f"{wf.endpoint!r} is not ADDRESS:PORT", source=self.site_label, path=epath) from None
        if not 1 <= endpoint_port <= 65535:
            # Checked here, not by the model, whose field (endpoint_port) is not a key of the site file.
            raise InputError(
                f"{wf.endpoint!r}: port {endpoint_port} is not in 1-65535", source=self.site_label, path=epath
            )
        values = wf.model_dump(exclude_none=True, exclude={"endpoint", "private_key"})
        return self._validate(
            WireGuard,
            site_path(self.sitefile, self.name, "wireguard"),
            private_key=wf.private_key,
            endpoint_address=endpoint,
            endpoint_port=endpoint_port,
            **values,
        )

    def _check_vip(self, vip: IPv4Address, lbs: list[HostFacts]) -> None:
        """The VIP moves between the LBs with VRRP: it must lie in the subnet of each LB's address."""
        for h in lbs:
            if vip not in h.addresses[0].network:
                if self.cf.lb and self.cf.lb.vip:
                    source, path = self.site_label, site_path(self.sitefile, self.name, "lb.vip")
                    shown = str(vip)
                else:
                    output = self.state.output("vip_address")
                    source, path = self.state.source, output.path if output else "outputs.vip_address"
                    shown = MASK if output and output.sensitive else str(vip)
                raise InputError(
                    f"API VIP {shown} is outside the LBs' subnet: {h.name} is {h.addresses[0]} "
                    f"(network {h.addresses[0].network})",
                    source=source,
                    path=path,
                )

    def _api_lb(self, lbs: list[HostFacts]) -> ApiLB | None:
        lf = self.cf.lb
        vip: IPv4Address | None = lf.vip if lf and lf.vip else None
        if vip is None:
            out = self.state.output("vip_address")
            if out is not None and out.plain():
                try:
                    vip = IPv4Address(str(out.plain()))
                except ValueError:
                    raise InputError(
                        f"{out.shown()!r} is not a valid IPv4 address", source=self.state.source, path=out.path
                    ) from None
        if vip is not None:
            self._check_vip(vip, lbs)
        if vip is None:
            self.missing["api_lb.vip"] = "no API VIP: set lb.vip in the site file or the Terraform output vip_address"
        if lf is None or lf.auth_pass is None:
            self.missing["api_lb.auth_pass"] = "no VRRP auth secret reference: set lb.auth_pass in the site file"
        if len(lbs) != 2:
            self.missing["api_lb.lbs"] = f"an API LB pair needs 2 lb servers, the state has {len(lbs)}"
        if vip is None or len(lbs) != 2:
            for h in lbs:
                h.credentials = self._credentials("lb")
            return None
        priorities = list(lf.priorities) if lf and lf.priorities else list(DEFAULT_LB_PRIORITIES)
        ppath = site_path(self.sitefile, self.name, "lb.priorities")
        if len(priorities) != 2 or priorities[0] == priorities[1]:
            raise InputError("give two different priorities (first LB, second LB)", source=self.site_label, path=ppath)
        ordered = sorted(lbs, key=lambda h: h.name)
        top = max(priorities)
        members = []
        for h, prio in zip(ordered, priorities, strict=True):
            h.credentials = self._credentials("lb")
            members.append(
                LoadBalancer(
                    name=h.name,
                    address=h.addresses[0].ip,
                    management_address=h.hostname,
                    interface=(lf.interface if lf and lf.interface else "eth0"),
                    priority=prio,
                    state="MASTER" if prio == top else "BACKUP",
                    credentials=h.credentials,
                )
            )
        values: dict[str, Any] = {"vip": vip, "lbs": members}
        if lf is not None:
            if lf.frontend_port:
                values["frontend_port"] = lf.frontend_port
            if lf.virtual_router_id:
                values["virtual_router_id"] = lf.virtual_router_id
            if lf.auth_pass is not None:
                values["auth_pass"] = lf.auth_pass
        return self._validate(ApiLB, site_path(self.sitefile, self.name, "lb"), **values)
