"""Both ends agree: MetalLB's BFDProfile and BGPPeer timers come from the model the router's templates read."""

from __future__ import annotations

import pytest
import yaml

from inventory.model import BFD, MetalLBIntent, Pool
from tasks.metallb.render import config_text, render_metallb
from tasks.router.dialect import DIALECTS
from tasks.router.render import render_router_config
from tests.unit.router_fixtures import ROUTER_WG_KEY, cluster


@pytest.fixture(autouse=True)
def wg_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_WG_KEY", ROUTER_WG_KEY)


def with_metallb(bfd: BFD, node_subnet: str = "proxy-arp") -> object:
    c = cluster(wireguard=False, node_subnet=node_subnet).model_copy(update={"bfd": bfd})
    intent = MetalLBIntent(
        pools=[Pool(name="globalip", addresses=["198.51.100.0/28"])],  # type: ignore[list-item]
        peer_address="203.0.113.4",  # type: ignore[arg-type]
        peer_asn=65020,
        my_asn=65021,
        hold_time=c.router.bgp.holdtime,  # type: ignore[union-attr]
        keepalive_time=c.router.bgp.keepalive,  # type: ignore[union-attr]
        bfd=bfd if bfd.enabled else None,
        ebgp_multihop=bfd.enabled and node_subnet == "proxy-arp",  # as inventory.cluster sets it
    )
    return c.model_copy(update={"metallb": intent})


def test_crds_carry_a_bfdprofile_with_the_routers_timers_and_the_peer_names_it() -> None:
    bfd = BFD(receive_interval=200, transmit_interval=250, multiplier=4)
    c = with_metallb(bfd)
    objects = render_metallb(c, "crds").objects  # type: ignore[arg-type]
    kinds = [o["kind"] for o in objects]
    assert kinds.index("BFDProfile") < kinds.index("BGPPeer")
    profile = next(o for o in objects if o["kind"] == "BFDProfile")
    assert profile["apiVersion"] == "metallb.io/v1beta1" and profile["metadata"]["name"] == "edgekit"
    assert profile["spec"] == {"receiveInterval": 200, "transmitInterval": 250, "detectMultiplier": 4}
    peer = next(o for o in objects if o["kind"] == "BGPPeer")["spec"]
    assert peer["bfdProfile"] == "edgekit"
    assert peer["holdTime"] == "90s" and "keepaliveTime" not in peer  # 30 s = hold/3: MetalLB derives it
    # the router's end of the same sessions, from the same model
    lines = render_router_config(c, DIALECTS["1.4"]).lines  # type: ignore[arg-type]
    assert "set protocols bfd peer 203.0.113.11 interval receive '200'" in lines
    assert "set protocols bfd peer 203.0.113.11 interval transmit '250'" in lines
    assert "set protocols bfd peer 203.0.113.11 interval multiplier '4'" in lines
    assert "set protocols bgp timers holdtime '90'" in lines and "set protocols bgp timers keepalive '30'" in lines


def test_legacy_configmap_carries_bfd_profiles_for_frr_mode() -> None:
    config = yaml.safe_load(config_text(render_metallb(with_metallb(BFD()), "configmap")))  # type: ignore[arg-type]
    assert config["peers"][0]["bfd-profile"] == "edgekit"
    assert config["bfd-profiles"] == [
        {"name": "edgekit", "receive-interval": 300, "transmit-interval": 300, "detect-multiplier": 3}
    ]


@pytest.mark.parametrize("form", ["crds", "configmap"])
def test_bfd_off_renders_no_profile_on_either_end(form: str) -> None:
    c = with_metallb(BFD(enabled=False))
    rendered = render_metallb(c, form)  # type: ignore[arg-type]
    text = yaml.safe_dump_all(rendered.objects)
    assert "bfd" not in text.lower()
    assert not any("bfd" in line for line in render_router_config(c, DIALECTS["1.4"]).lines)  # type: ignore[arg-type]


@pytest.mark.parametrize("keepalive, written", [(30, None), (20, "20s")])
def test_keepalive_is_written_only_where_metallb_would_derive_another(keepalive: int, written: str | None) -> None:
    """MetalLB derives keepalive = hold/3 and native mode refuses the field, so 30 s with hold 90 s is left out."""
    c = with_metallb(BFD(enabled=False))
    intent = c.metallb.model_copy(update={"hold_time": 90, "keepalive_time": keepalive})  # type: ignore[attr-defined]
    c = c.model_copy(update={"metallb": intent})  # type: ignore[attr-defined]
    peer = next(o for o in render_metallb(c, "crds").objects if o["kind"] == "BGPPeer")["spec"]  # type: ignore[arg-type]
    assert peer.get("keepaliveTime") == written and peer["holdTime"] == "90s"
    config = yaml.safe_load(config_text(render_metallb(c, "configmap")))  # type: ignore[arg-type]
    assert config["peers"][0].get("keepalive-time") == written


def test_proxy_arp_bfd_is_multihop_on_both_ends() -> None:
    c = with_metallb(BFD())
    peer = next(o for o in render_metallb(c, "crds").objects if o["kind"] == "BGPPeer")["spec"]  # type: ignore[arg-type]
    assert peer["ebgpMultiHop"] is True and peer["bfdProfile"] == "edgekit"
    config = yaml.safe_load(config_text(render_metallb(c, "configmap")))  # type: ignore[arg-type]
    assert config["peers"][0]["ebgp-multihop"] is True
    lines = render_router_config(c, DIALECTS["1.4"]).lines  # type: ignore[arg-type]
    assert "set protocols bfd peer 203.0.113.11 multihop" in lines
    assert "set protocols bgp neighbor 203.0.113.11 ebgp-multihop '2'" in lines


@pytest.mark.parametrize("form", ["crds", "configmap"])
def test_no_multihop_without_bfd_or_in_the_private_layout(form: str) -> None:
    for c in (with_metallb(BFD(enabled=False)), with_metallb(BFD(), node_subnet="private")):
        text = yaml.safe_dump_all(render_metallb(c, form).objects)  # type: ignore[arg-type]
        assert "multihop" not in text.lower()
