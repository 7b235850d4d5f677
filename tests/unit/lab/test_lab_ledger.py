"""The ledger's structure (no network, no mirrors): every entry names a known repository, a ref and a path,
keys are unique within a section list, the lab's op-mode/error/BGP code takes its texts from it, and the audit
reports missing evidence against a local git repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from lab.vyos import ledger as L
from lab.vyos.ledger import Entry, Source, v1_3, v1_4, v1_5
from lab.vyos.ledger import __main__ as audit_cli

ROOT = Path(__file__).resolve().parents[3]
SECTIONS = ("LIFECYCLE", "OP_MODE", "ERRORS", "BGP", "WIREGUARD", "SECRETS", "CONFIRM_ACTION")
MODULES = (v1_3, v1_4, v1_5)


@pytest.mark.parametrize("mod", MODULES, ids=lambda m: m.__name__)
def test_every_entry_names_its_source(mod: object) -> None:
    for section in SECTIONS:
        for e in getattr(mod, section):
            assert isinstance(e, Entry)
            for src in (e.source, *e.sources):
                assert src.repo in L.REPOS, (e.key, src.repo)
                assert src.ref and src.ref not in ("master", "HEAD"), (e.key, src.ref)
                assert src.path and not src.path.startswith("/"), (e.key, src.path)


@pytest.mark.parametrize("mod", MODULES, ids=lambda m: m.__name__)
def test_keys_unique_per_version(mod: object) -> None:
    keys = [e.key for section in SECTIONS for e in getattr(mod, section)]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


@pytest.mark.parametrize("section", ("OP_MODE", "ERRORS", "BGP"))
def test_my_sections_cite_evidence(section: str) -> None:
    for mod in MODULES:
        for e in getattr(mod, section):
            assert e.evidence, e.key
            assert all(isinstance(x, str) and x for x in e.evidence), e.key


def test_13_cites_13_sources_and_14_cites_14() -> None:
    for e in v1_3.OP_MODE + v1_3.ERRORS + v1_3.BGP:
        assert e.source.ref.startswith(("equuleus", "1.3")), e.key
    for e in v1_4.OP_MODE + v1_4.ERRORS + v1_4.BGP:
        assert e.source.ref.startswith(("sagitta", "1.4")), e.key


def test_versions_and_inheritance() -> None:
    assert L.ledger("1.5").text("op.invalid", head="show ", word="foo") == "\n  Invalid command: show [foo]\n\n"
    with pytest.raises(KeyError):
        L.ledger("1.2")


def test_lab_code_takes_texts_from_the_ledger() -> None:
    """The op-mode, error and BGP texts the audit covers are not spelled out again in the lab's code."""
    # the files that print op-mode, error and BGP texts (daemon.py, kernel.py, firewall.py belong to other areas)
    mine = ("cli.py", "ops.py", "config.py", "schema.py", "frr.py", "router.py")
    code = {name: (ROOT / "lab" / "vyos" / name).read_text() for name in mine}
    for mod in (v1_3, v1_4):
        for e in mod.OP_MODE + mod.ERRORS + mod.BGP:
            if e.key in ("error.invalid-value", "error.interface-missing") or e.key.startswith(
                ("value ", "schema ", "bgp.render.", "show.ip-route.", "config.prompt")
            ):
                continue  # schema messages are looked up by path; rendering/commands are cited in frr.py/cli.py
            pieces = [x.strip() for x in re.split(r"\{[^}]*\}", e.text) if not x.strip().startswith("protocols ")]
            literal = max(pieces, key=len)
            if len(literal) < 12:
                continue
            for name, src in code.items():
                if name == "cli.py" and e.key == "op.invalid":
                    # the handlers of commit, compare, commit-confirm, rollback and load (other owners) still
                    # spell `Invalid command: [...]` for their bad arguments: the op-mode and set/delete/run/exit
                    # paths use invalid()/invalid_line()
                    src = "\n".join(
                        ln for ln in src.splitlines() if "Invalid command: [" not in ln or "return f" not in ln
                    )
                assert literal not in src, f"{name} spells out {e.key!r} ({literal!r}) instead of text()"
    assert "ledger_text(" in code["cli.py"] and "text(" in code["router.py"] and "_text(schema" in code["config.py"]


def test_schema_messages_come_from_the_ledger() -> None:
    from lab.vyos import config as C
    from lab.vyos.schema import build_schema

    def refused(version: str, line: str) -> list[str]:
        with pytest.raises(C.PathError) as e:
            C.set_path({}, build_schema(version), line.split())
        return e.value.lines

    assert refused("1.4", "protocols bgp system-as x") == ["Invalid value", "Value validation failed"]
    assert refused("1.4", "protocols bgp neighbor 10.0.0.1 remote-as x")[0] == "Invalid AS number"
    assert refused("1.3", "protocols bgp 0")[0] == "AS number must be between 1 and 4294967294"
    assert refused("1.3", "protocols bgp 65000 timers holdtime 70000")[0].startswith("hold-time interval")
    assert refused("1.3", "protocols bgp 65000 parameters ebgp-requires-policy")[0].endswith("is not valid")
    assert refused("1.4", "interfaces ethernet eth1 description " + "x" * 256)[0].endswith("(limit 255 characters)")
    C.set_path({}, build_schema("1.3"), "protocols bgp 65000 parameters default no-ipv4-unicast".split())


def test_13_bgp_renders_like_vyatta_cfg_quagga() -> None:
    from lab.vyos import config as C
    from lab.vyos.frr import render
    from lab.vyos.schema import build_schema

    def lines(version: str, cmds: list[str]) -> list[str]:
        tree: C.Tree = {}
        for c in cmds:
            C.set_path(tree, build_schema(version), c.split())
        return [ln for _, ln in render(tree, version)]

    base = ["protocols bgp 65000 neighbor 10.0.0.2 remote-as 65001"]
    out = lines("1.3", base)
    assert "no bgp ebgp-requires-policy" in out and "no bgp network import-check" in out
    assert "no bgp default ipv4-unicast" not in out
    out = lines("1.3", base + ["protocols bgp 65000 parameters default no-ipv4-unicast"])
    assert "no bgp default ipv4-unicast" in out
    assert "no bgp default ipv4-unicast" in lines("1.4", ["protocols bgp system-as 65000"])


def test_commit_failure_keeps_the_first_error_of_a_section() -> None:
    from lab.vyos.router import _failure

    out = _failure([("protocols bgp", "first"), ("protocols bgp", "second"), ("protocols bfd", "x")], "1.4")
    assert out == [
        "[ protocols bgp ]",
        "first",
        "",
        "[[protocols bgp]] failed",
        "[ protocols bfd ]",
        "x",
        "",
        "[[protocols bfd]] failed",
        "Commit failed",
    ]


def test_show_system_commit_formats() -> None:
    from lab.vyos.ops import commit_log_text

    t = 1_700_000_000.0
    revs = [(t, "vyos", "cli", "edgekit deploy"), (t, "root", "init", "")]
    o13 = commit_log_text("1.3", revs).splitlines()
    assert re.fullmatch(r"0   \d{4}-\d\d-\d\d \d\d:\d\d:\d\d by vyos via cli", o13[0])
    assert o13[1] == "    edgekit deploy"
    assert o13[2].startswith("1   ")
    o14 = commit_log_text("1.4", revs * 6).splitlines()
    # tabulate plain: the number column right-aligned, the comment in the time column, lines rstripped
    assert re.fullmatch(r" 0  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  by vyos  via cli", o14[0])
    assert o14[1] == "    edgekit deploy"
    assert o14[-1].startswith("11  ") and o14[-1].endswith("by root  via init")


def test_show_version_blank_lines() -> None:
    from lab.vyos.ops import version_text

    v13 = version_text("1.3.8", "equuleus")
    assert v13.startswith("\nVersion:") and v13.endswith("contributors\n")
    v14 = version_text("1.4.0", "sagitta")
    assert v14.startswith("Version:") and v14.endswith("contributors\n")


def test_audit_reports_missing_evidence(tmp_path: Path) -> None:
    repo = tmp_path / "mirror" / "vyos+vyatta-op" / "repo"
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    (work / "f.sh").write_text('echo "hello there"\n')
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", "-C", str(work), "add", "f.sh"], check=True)
    subprocess.run(
        ["git", "-C", str(work), "commit", "-q", "-m", "x"], check=True, env={**env, "PATH": "/usr/bin:/bin"}
    )
    subprocess.run(["git", "-C", str(work), "tag", "t1"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(repo)], check=True)
    good = Entry("k.good", "hello\n", Source("vyos/vyatta-op", "t1", "f.sh"), evidence=('echo "hello there"',))
    bad = Entry("k.bad", "x", Source("vyos/vyatta-op", "t1", "f.sh"), evidence=("not in the file",))
    gone = Entry("k.gone", "x", Source("vyos/vyatta-op", "t1", "missing.sh"), evidence=("x",))
    nomirror = Entry("k.nomirror", "x", Source("vyos/vyos-1x", "1.4.0", "a"), evidence=("x",))
    mirror = tmp_path / "mirror"
    assert audit_cli.audit_entry("1.4", good, mirror) == []
    assert "not found" in audit_cli.audit_entry("1.4", bad, mirror)[0].problem
    assert "does not exist" in audit_cli.audit_entry("1.4", gone, mirror)[0].problem
    assert "no mirror" in audit_cli.audit_entry("1.4", nomirror, mirror)[0].problem
    assert audit_cli.main(["audit", "--mirror", str(tmp_path / "nowhere")]) == 2


def test_13_bgp_commit_error_is_vyatta_bgp_pl_s() -> None:
    from lab.vyos import config as C
    from lab.vyos.router import Router, _failure
    from lab.vyos.schema import build_schema

    class Bare(Router):
        def __init__(self, version: str) -> None:  # only what verify_bgp reads
            self.version = self.release = version

    tree: C.Tree = {}
    C.set_path(tree, build_schema("1.3"), "protocols bgp 65000 neighbor 10.0.0.2 description x".split())
    errs = Bare("1.3").verify_bgp("65000", C.sub(tree, "protocols", "bgp", "65000"))
    assert _failure(errs, "1.3") == [
        "[ protocols bgp 65000 neighbor 10.0.0.2 ]\n  must set remote-as or peer-group with remote-as defined",
        "",
        "[[protocols bgp 65000]] failed",
        "Commit failed",
    ]
    C.set_path(tree, build_schema("1.3"), "protocols bgp 65000 parameters default no-ipv4-unicast".split())
    assert Bare("1.3").verify_bgp("65000", C.sub(tree, "protocols", "bgp", "65000")) == []
