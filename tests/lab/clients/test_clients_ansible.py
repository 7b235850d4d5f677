"""Ansible's vyos.vyos collection (6.0.0, bundled in the `ansible` 12.3.0 package with ansible.netcommon and
ansible.utils) as a witness against the 1.3 and 1.4 lab routers, unmodified: ansible-playbook with network_cli
(paramiko) and ansible_network_os vyos.vyos.vyos, run in the client namespace.

The issue's acceptance test: `vyos_config` with `save: true` reports `changed` once, then not, on both dialects.
vyos_config (plugins/modules/vyos_config.py main()) saves unless `compare saved` answers exactly `[edit]` (1.3:
vyatta-cfg-run's bare showConfig diff prints nothing) or "No changes between working and saved
configurations.\\n\\n[edit]" (1.4: vyos-1x config_mgmt.py run() print()s a text that ends in a newline). A lab without
that blank line made every run `changed`.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab.clients_lab import PASSWORD, VERSIONS, ClientsLab, clients_lab

pytestmark = [pytest.mark.lab, pytest.mark.programs("ansible-playbook")]

PLAYBOOK = textwrap.dedent(
    """
    - hosts: routers
      gather_facts: false
      tasks:
        - name: facts
          vyos.vyos.vyos_facts:
            gather_subset: all
        - name: interfaces gathered
          vyos.vyos.vyos_interfaces:
            state: gathered
        - name: config with save, first
          vyos.vyos.vyos_config:
            lines:
              - set interfaces ethernet eth1 description 'ansible-w'
            save: true
        - name: config with save, again
          vyos.vyos.vyos_config:
            lines:
              - set interfaces ethernet eth1 description 'ansible-w'
            save: true
        - name: save only
          vyos.vyos.vyos_config:
            save: true
    """
)


@pytest.fixture(scope="module")
def lab() -> Iterator[ClientsLab]:
    yield from clients_lab("an")


def playbook(lab: ClientsLab) -> dict[str, dict[str, dict[str, Any]]]:
    """Run the playbook against both routers; {task name: {host: result}} from the ansible.posix.json callback."""
    work = lab.base / "ansible"
    work.mkdir(exist_ok=True)
    inv = ["[routers]"]
    for r in lab.routers.values():
        inv.append(f"{r.name} ansible_host={r.ip}")
    inv += [
        "[routers:vars]",
        "ansible_connection=ansible.netcommon.network_cli",
        "ansible_network_os=vyos.vyos.vyos",
        "ansible_network_cli_ssh_type=paramiko",
        "ansible_user=vyos",
        f"ansible_password={PASSWORD}",
    ]
    (work / "hosts").write_text("\n".join(inv) + "\n")
    (work / "play.yml").write_text(PLAYBOOK)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        "ANSIBLE_PERSISTENT_CONTROL_PATH_DIR": str(work / "pc"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PERSISTENT_COMMAND_TIMEOUT": "60",
    }
    exe = shutil.which("ansible-playbook")
    assert exe is not None
    p = lab.run_in_client([exe, "-i", str(work / "hosts"), str(work / "play.yml")], env=env, cwd=work, timeout=500)
    text = p.stdout[p.stdout.index("{") :]
    data = json.loads(text)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            out[task["task"]["name"]] = task["hosts"]
    assert p.returncode == 0, json.dumps(data["stats"]) + p.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def results(lab: ClientsLab) -> dict[str, dict[str, dict[str, Any]]]:
    return playbook(lab)


@pytest.mark.parametrize("version", VERSIONS)
def test_vyos_facts_and_gathered_interfaces(lab: ClientsLab, results: dict, version: str) -> None:
    r = lab.routers[version]
    facts = results["facts"][r.name]["ansible_facts"]
    assert facts["ansible_net_hostname"] == r.name
    assert facts["ansible_net_version"] == ("VyOS 1.3.8" if version == "1.3" else "VyOS 1.4.0")
    assert f"set system host-name '{r.name}'" in facts["ansible_net_config"][0]  # [config, show system commit]
    gathered = {i["name"]: i for i in results["interfaces gathered"][r.name]["gathered"]}
    assert gathered["eth1"]["description"] == "to-clients"


@pytest.mark.parametrize("version", VERSIONS)
def test_vyos_config_save_is_idempotent(lab: ClientsLab, results: dict, version: str) -> None:
    r = lab.routers[version]
    first = results["config with save, first"][r.name]
    assert first["changed"] is True and first["commands"] == ["set interfaces ethernet eth1 description 'ansible-w'"]
    again = results["config with save, again"][r.name]
    assert again["changed"] is False and again["commands"] == []
    assert results["save only"][r.name]["changed"] is False
    assert "ansible-w" in Path(r.config_boot).read_text()
