"""Loading: the sources, fetching their states (in parallel), each cluster's Kubernetes facts, and the
``LoadResult`` that ``load()`` assembles from hosts, cluster models and their Nornir projection."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from inventory import kube, sources, tfstate
from inventory.cluster import ClusterBuilder
from inventory.errors import InputError, SourceUnreachable
from inventory.hosts import HostFacts, role_rules
from inventory.model import Cluster, Site
from inventory.projection import ByName, host_slice
from inventory.secrets import K8sSecretReader
from inventory.sitefile import SiteFile, load_site_file

DEFAULT_ROLLOUT = ["dev", "wsp", "prd"]


@dataclass
class InventorySources:
    """Where the inventory comes from (what ``tasks.core.options.CommonOptions.sources()`` returns)."""

    states: list[str] = field(default_factory=list)
    site: str | None = None
    kubeconfig: str | None = None
    clusters: list[str] = field(default_factory=list)
    require_k8s: bool = False


@dataclass
class LoadResult:
    site: Site
    hosts: list[HostFacts]
    warnings: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    sitefile: SiteFile = field(default_factory=SiteFile)
    states: dict[str, tfstate.State] = field(default_factory=dict)  # cluster -> its state
    kube_contexts: dict[str, str] = field(default_factory=dict)  # cluster -> kubeconfig context used
    kubeconfig: str | None = None
    # What each cluster's Kubernetes API said (absent when not read): verify compares it with tfstate.
    kube_facts: dict[str, kube.KubeFacts] = field(default_factory=dict)

    def host(self, name: str) -> HostFacts:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def secret_reader(self, cluster: str) -> K8sSecretReader | None:
        """Reads ``SecretRef(k8s=...)`` from that cluster's API (None without a kubeconfig)."""
        if not self.kubeconfig:
            return None
        context = self.kube_contexts.get(cluster, cluster)
        return kube.secret_reader(self.kubeconfig, context)


@dataclass
class _Loaded:
    cluster: str
    state: tfstate.State
    source: str


def load(src: InventorySources) -> LoadResult:
    if not src.states:
        raise InputError("no Terraform state given: pass --state PATH|URL or set EDGEKIT_STATE")
    sitefile = load_site_file(src.site) if src.site else SiteFile()
    site_label = src.site or "site file"
    rules = role_rules(sitefile, site_label)

    loaded: dict[str, _Loaded] = {}
    # Backends answer in parallel (network-bound); parsing and every check stay in the given order.
    with ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
        fetched = list(pool.map(_fetch_or_error, src.states))
    for source, docs in zip(src.states, fetched, strict=True):
        if isinstance(docs, BaseException):
            raise docs
        for doc in docs:
            state = tfstate.loads(doc.text, doc.label)
            name = _cluster_name(doc, state)
            if not state.servers:
                path = "values.root_module" if state.format == "show-json" else "resources"
                raise InputError("no sakuracloud_server resources (managed) in the state", source=doc.label, path=path)
            if name in loaded:
                raise InputError(
                    f"cluster {name!r} also comes from {loaded[name].state.source}; name one with CLUSTER=SOURCE",
                    source=doc.label,
                )
            loaded[name] = _Loaded(cluster=name, state=state, source=source)
    for want in src.clusters:
        if want not in loaded:
            raise InputError(f"no state for cluster {want!r} (have: {', '.join(sorted(loaded))})", path="--cluster")
    if src.clusters:
        loaded = {k: v for k, v in loaded.items() if k in src.clusters}

    result = LoadResult(site=Site(clusters={}), hosts=[], sitefile=sitefile, kubeconfig=src.kubeconfig)
    rollout = sitefile.rollout or DEFAULT_ROLLOUT
    contexts: list[str] = []
    current: str | None = None
    if src.kubeconfig:
        contexts, current = kube.list_contexts(src.kubeconfig)
    elif src.require_k8s:
        raise InputError("--require-k8s needs a kubeconfig (--kubeconfig or $KUBECONFIG)")

    discovered = _discover_all(src, loaded, sitefile, contexts, current)
    clusters: dict[str, Cluster] = {}
    seen_names: dict[str, str] = {}
    for name in sorted(loaded, key=lambda n: (rollout.index(n) if n in rollout else len(rollout), n)):
        item = loaded[name]
        builder = ClusterBuilder(
            name=name,
            state=item.state,
            sitefile=sitefile,
            site_label=site_label,
            rules=rules,
            order=rollout.index(name) if name in rollout else len(rollout),
        )
        builder.collect_hosts()
        for h in builder.hosts:
            if h.name in seen_names:
                raise InputError(f"host {h.name!r} is also in cluster {seen_names[h.name]}", source=item.state.source)
            seen_names[h.name] = name
        facts = None
        context = _kube_context(name, sitefile, contexts, current, len(loaded))
        if src.kubeconfig:
            if context in contexts and context != name and not sitefile.cluster(name).kube_context:
                builder.warn(
                    f"{name}: kubeconfig {src.kubeconfig} has no context named {name!r}; "
                    f"using its current context {context!r}"
                )
            if context not in contexts:
                message = f"{name}: no context {context!r} in kubeconfig {src.kubeconfig}"
                if src.require_k8s:
                    raise InputError(message, source=src.kubeconfig)
                builder.warn(message + "; using tfstate nodes as speakers")
            else:
                result.kube_contexts[name] = context
                found = discovered[name]
                if isinstance(found, SourceUnreachable):
                    if src.require_k8s:
                        raise found
                    builder.warn(f"{name}: Kubernetes unreachable ({found}); using tfstate nodes as speakers")
                elif isinstance(found, BaseException):
                    raise found
                else:
                    facts = found
        else:
            builder.warn(f"{name}: no kubeconfig; using tfstate nodes as speakers")
        cluster = builder.build(facts)
        if facts is not None:
            result.kube_facts[name] = facts
        clusters[name] = cluster
        result.hosts.extend(builder.hosts)
        result.states[name] = item.state
        result.warnings.extend(cluster.warnings)
        result.disagreements.extend(f"{name}: {d}" for d in cluster.disagreements)

    result.site = Site(clusters=clusters, rollout=rollout)
    by_name = {name: ByName.of(c) for name, c in result.site.clusters.items()}
    for h in result.hosts:
        h.data["model"] = host_slice(result.site.clusters[h.cluster], h, by_name[h.cluster])
    return result


FETCH_WORKERS = 16


def _fetch_or_error(source: str) -> list[sources.Fetched] | BaseException:
    try:
        return sources.fetch(source)
    except Exception as exc:  # re-raised in source order by load()
        return exc


def _kube_context(name: str, sitefile: SiteFile, contexts: list[str], current: str | None, clusters: int) -> str:
    """The kubeconfig context of a cluster: the site file's kube_context, else the cluster's name; with a
    single cluster and no such context, the kubeconfig's current one (load() says so in a warning)."""
    explicit = sitefile.cluster(name).kube_context
    context = explicit or name
    if context not in contexts and clusters == 1 and current and not explicit:
        return current
    return context


def _discover_all(
    src: InventorySources, loaded: dict[str, _Loaded], sitefile: SiteFile, contexts: list[str], current: str | None
) -> dict[str, kube.KubeFacts | BaseException | None]:
    """Every cluster's Kubernetes facts, read in parallel (each is ~9 API round trips)."""
    if not src.kubeconfig:
        return {name: None for name in loaded}
    kubeconfig = src.kubeconfig

    def one(name: str) -> kube.KubeFacts | BaseException | None:
        context = _kube_context(name, sitefile, contexts, current, len(loaded))
        if context not in contexts:
            return None
        try:
            return kube.discover(kubeconfig, context)
        except Exception as exc:  # handled per cluster, in rollout order, by load()
            return exc

    names = list(loaded)
    with ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


def _cluster_name(doc: sources.Fetched, state: tfstate.State) -> str:
    if doc.workspace:
        return doc.workspace
    out = state.output("show_workspaces")
    if out is not None and isinstance(out.plain(), str) and out.plain():
        return str(out.plain())
    suffixes = {s.name.rsplit("-", 1)[-1] for s in state.servers if "-" in s.name}
    if len(suffixes) == 1 and all("-" in s.name for s in state.servers):
        return suffixes.pop()
    return "default"
