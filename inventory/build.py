"""Build the resolved site model and the host list from Terraform state, Kubernetes and the site file.

``load(InventorySources(...)) -> LoadResult`` is the one entry point (the Nornir plugin and every CLI
subcommand use it). This module keeps the public names; the work is done, one job each, by
``inventory.loader`` (sources, fetching states and Kubernetes facts, ``LoadResult``), ``inventory.hosts``
(roles and addresses from tfstate), ``inventory.cluster`` (each cluster's model), ``inventory.reconcile``
(Kubernetes: speakers, peers, pools, services, refusals) and ``inventory.projection`` (the Nornir hosts'
model slices). Rules, in the order they apply:

Cluster name of a state
    the ``CLUSTER=`` prefix of the source; else the workspace its location names (S3 ``env:/<ws>/<key>``
    or ``?workspace=<ws>``); else the state's ``show_workspaces`` output; else the common ``-<ws>`` suffix
    of its server names; else ``default``. Two states naming one cluster are an error.

Roles
    ``clusters.<c>.hosts.<server>.role`` in the site file; else the first matching rule of the site file's
    ``role_rules`` (``name`` regex searched in the server name, and all ``tags`` present); else the
    built-in rules ``^k8s-router-\\d+-`` router, ``^k8s-lb-\\d+-`` lb, ``^k8s-master-\\d+-`` master,
    ``^k8s-node-\\d+-`` node. A server no rule matches is skipped with a warning.

Addresses
    NIC 0: the server's ``ip_address`` / ``netmask`` (Sakura Cloud sets them from NIC 0), unless the site
    file gives ``hosts.<server>.addresses["0"]``. NIC i > 0, first found wins:
    1. the site file: ``hosts.<server>.addresses["<i>"]`` (and for the router's node-side NIC,
       ``router.node_address``);
    2. a Terraform output named by ``address_outputs["<role>:<i>"]`` (default ``router:1`` ->
       ``k8s_router_internal_ipaddress``); a string output serves the role's only host, a list output
       the role's hosts in index order. An output the site file names but the state lacks is an error;
    3. ``network_interface[i].user_ip_address`` (display-only in the provider, so last).
    Addresses from 2 and 3 carry no prefix length: the router's node-side address then gets /24 with a
    warning (give ``router.node_address`` as address/prefix to silence it); other hosts' NICs get /24.
    Management address (what edgekit connects to): ``hosts.<server>.management_address``, for the router
    also ``router.management_address``; else NIC 0's address.

Speakers
    With a kubeconfig: the nodes running a Ready MetalLB speaker pod that the router's MetalLB peer selects
    (its node selectors: ``inventory.speakers``), at their InternalIP, ASN from MetalLB's ``my-asn`` /
    ``myASN`` (else site ``speaker_asn``, default 65021). When the API is
    unreachable (or there is no kubeconfig): every tfstate node, with a warning; with ``require_k8s`` the
    unreachable API is an error (exit 3) instead.

Pools
    Kubernetes MetalLB config; else the site file's ``metallb.pools``; else the output
    ``metallb_address_range`` (or ``external_address_range``); else ``sakuracloud_subnet`` resources whose
    next hop is the router.

Facts a feature needs but nobody provides are recorded in ``Cluster.missing`` (field path -> reason);
``Cluster.require("wireguard")`` raises ``MissingFact`` naming the field. Other bad input raises
``InputError`` naming the file and the JSON/YAML path: among it a MetalLB pool over the nodes' or the
router's node-side subnet, an API VIP outside the LBs' subnet, ``address_outputs`` with an unknown role
or output. Live facts the router cannot work with (a Kubernetes speaker outside every subnet the router
reaches, a Kubernetes pool over the nodes' subnet) refuse only that cluster: ``Cluster.refused``.
"""

from __future__ import annotations

from inventory.cluster import DEFAULT_LB_PRIORITIES, DEFAULT_ROUTER_ASN, DEFAULT_USERNAMES
from inventory.hosts import DEFAULT_ADDRESS_OUTPUTS, DEFAULT_PREFIX, DEFAULT_ROLE_RULES, PLATFORMS, HostFacts
from inventory.loader import DEFAULT_ROLLOUT, FETCH_WORKERS, InventorySources, LoadResult, load
from inventory.projection import host_slice
from inventory.reconcile import DEFAULT_SPEAKER_ASN, POOL_OUTPUTS

__all__ = [
    "DEFAULT_ADDRESS_OUTPUTS",
    "DEFAULT_LB_PRIORITIES",
    "DEFAULT_PREFIX",
    "DEFAULT_ROLE_RULES",
    "DEFAULT_ROLLOUT",
    "DEFAULT_ROUTER_ASN",
    "DEFAULT_SPEAKER_ASN",
    "DEFAULT_USERNAMES",
    "FETCH_WORKERS",
    "PLATFORMS",
    "POOL_OUTPUTS",
    "HostFacts",
    "InventorySources",
    "LoadResult",
    "host_slice",
    "load",
]
