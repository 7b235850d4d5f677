"""The VyOS command line of one SSH session: op mode and config mode.

Transport-free: the daemon hands it ``write`` and ``readline`` coroutines. Output ends with the
prompt at once (no trailing delay), so clients that read up to the prompt never wait for silence.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import time
from collections.abc import Awaitable, Callable

from . import config as C
from . import ledger, ops, rootfs
from .firewall import show_firewall_14
from .kernel import links
from .ledger import text as ledger_text
from .ops import OP_WORDS, run_shell, split_pipes, strip_private
from .router import Router

Write = Callable[[str], None]
ReadLine = Callable[[], Awaitable[str | None]]

# Op-mode routing shows go to vtysh unchanged, as VyOS passes them through.
VTYSH_SHOWS = (
    ("show", "ip", "bgp"),
    ("show", "ip", "route"),
    ("show", "bgp"),
    ("show", "ipv6", "route"),
    ("show", "ipv6", "bgp"),
)


class Exit(Exception):
    pass


class Session:
    def __init__(self, router: Router, user: str, write: Write, readline: ReadLine) -> None:
        self.router = router
        self.user = user
        self.write = write
        self.readline = readline
        self.config_mode = False
        self.candidate: C.Tree = {}
        self.host = router.host_name()  # like a login shell, the prompt keeps the name it started with
        self.interactive = True  # False for an exec request (`ssh router CMD`: vbash -c)
        self.committed = False  # this session committed since its last save (vyatta-cfg's .unsaved marker)

    # ------------------------------------------------------------ prompts

    def prompt(self) -> str:
        return f"{self.user}@{self.host}# " if self.config_mode else f"{self.user}@{self.host}:~$ "

    def changed(self) -> bool:
        return self.candidate != self.router.running

    async def run(self) -> None:
        self.write("Welcome to VyOS!\n\n")
        # A logged-in tty: wall(1) broadcasts (the commit-confirm countdown) reach it (Router.wall).
        loop = asyncio.get_running_loop()

        def tty(text: str) -> None:
            loop.call_soon_threadsafe(self.write, text)

        self.router.ttys.add(tty)
        try:
            while True:
                self.write(self.prompt())
                line = await self.read_command()
                if line is None:
                    return
                try:
                    out = await self.handle(line.strip())
                except Exit:
                    return
                self.write(out)
        finally:
            self.router.ttys.discard(tty)

    async def read_command(self) -> str | None:
        """One command line as the interactive vbash reads it. A ``?`` is bound to completion (vyatta-op equuleus
        etc/bash_completion.d/vyatta-op ``bind '"?": possible-completions'``; vyos-1x 1.4.0
        src/op_mode/toggle_help_binding.sh): readline lists completions and the character never reaches the line
        (the listing itself is not modelled). A quote left open makes bash read on at its continuation prompt,
        PS2 (bash(1) Shell Variables: PS2 "The default is ``> ``"), the newline part of the quoted word."""
        line = await self.readline()
        if line is None:
            return None
        line = line.replace("?", "")
        while line != "\x03" and _open_quote(line):
            self.write("> ")
            more = await self.readline()
            if more is None or more == "\x03":  # Ctrl-C at PS2 abandons the whole command
                return more
            line += "\n" + more.replace("?", "")
        return line

    def text(self, key: str, **fields: object) -> str:
        """A client-visible text of this router's version, from the ledger (lab/vyos/ledger)."""
        return ledger.text(self.router.ledger_version(), key, **fields)

    async def handle(self, line: str) -> str:
        """Run one command line; returns its output including VyOS's trailing `[edit]`."""
        if self.config_mode:
            before = self.router.running
            out = await self.config_command(line)
            # vyatta-cfg's per-session .unsaved marker (ledger exit.unsaved): a commit of this session sets
            # it (commit-algorithm.cpp markSessionUnsaved), `save` clears it (vyatta_config_save).
            word = line.split()[:1]
            if word in (["commit"], ["commit-confirm"]) and self.router.running is not before:
                self.committed = True
            elif word == ["save"]:
                self.committed = False
            if self.config_mode:
                return out + "[edit]\n"
            return out
        return await self.op_command(line)

    # ------------------------------------------------------------ op mode

    async def op_command(self, line: str) -> str:
        """One op-mode line. vbash: a line whose first word is a VyOS op word runs the op command (and its
        pipes); any other line is a shell command line (vyatta-op functions/interpreter/vyatta-op-run)."""
        if not line.strip():
            return ""
        segs = split_pipes(line)
        try:
            toks = shlex.split(segs[0])
        except ValueError:
            toks = []
        if not toks or toks[0] not in OP_WORDS | {"exit", "logout", "quit"}:
            return await run_shell(line, self.router.state, interactive=self.interactive)
        if toks[0] in ("exit", "logout", "quit"):
            if len(toks) == 1 and len(segs) == 1:
                raise Exit
            return await run_shell(line, self.router.state, interactive=self.interactive)
        if toks == ["configure"] and len(segs) == 1:
            self.config_mode = True
            self.candidate = C.clone(self.router.running)
            return "[edit]\n"
        out = await self.op_vyos(toks)
        return await self.pipes(out, segs[1:])

    async def pipes(self, text: str, segs: list[str], commands: str | None = None) -> str:
        """The pipe functions of vyatta-op etc/bash_completion.d/vyatta-op; other words are shell commands
        reading the output. ``commands``: what `| commands` gives in config mode (None in op mode)."""
        for seg in segs:
            words = seg.split()
            if words[:1] == ["strip-private"]:
                text = strip_private(text)
            elif words[:1] == ["commands"]:
                text = commands if commands is not None else ledger_text(self.router.release, "op.pipe.commands")
            elif words[:1] == ["json"] and commands is None:
                text = ledger_text(self.router.release, "op.pipe.json")
            else:
                text = await run_shell(seg, self.router.state, stdin=text, interactive=self.interactive)
        return text

    def invalid(self, toks: list[str], i: int) -> str:
        """vyatta-op-run _vyatta_op_run (ledger op.invalid): the words so far, then the bad one in brackets."""
        head = " ".join(toks[:i])
        return ledger_text(self.router.release, "op.invalid", head=head + " " if head else "", word=toks[i])

    def invalid_line(self, words: str) -> str:
        """A whole line refused (ledger op.invalid with no head: the line in brackets)."""
        return ledger_text(self.router.release, "op.invalid", head="", word=words)

    def incomplete(self, toks: list[str]) -> str:
        return ledger_text(self.router.release, "op.incomplete", words=" ".join(toks))

    async def show_ip_route_op(self, toks: list[str]) -> str:
        """`show ip route forward|cache [X]` run iproute2 in the router (both versions); `summary` is vtysh,
        on 1.4 through route.py show_summary (stripped, then print()). Ledger OP_MODE show.ip-route.*."""
        r = self.router
        word, rest = toks[3], toks[4:]
        if word in ("forward", "cache") and len(rest) <= 1:
            cmd = ledger_text(r.release, f"show.ip-route.{word}").split()
            if rest:
                cmd = cmd + rest if word == "cache" else ["ip", "-s", "route", "list", *rest]
            return await _run_text(cmd)
        if word == "summary" and not rest:
            out = await asyncio.to_thread(r.frr.show, ledger_text(r.release, "show.ip-route.summary"))
            return out if r.version == "1.3" else _printed(out)
        if word == "summary" and r.version != "1.3" and len(rest) == 2 and rest[0] == "table":
            out = await asyncio.to_thread(r.frr.show, f"show ip route summary table {rest[1]}")
            return _printed(out)
        return self.invalid(toks, min(len(toks) - 1, 4 if word != "summary" or r.version == "1.3" else 5))

    async def op_vyos(self, toks: list[str]) -> str:
        if toks[:2] == ["set", "terminal"] and len(toks) >= 3:
            return ""  # no pager and no wrapping here; accepted like on VyOS
        if toks[0] == "ping" and len(toks) >= 2:
            return await self.ping(toks[1:])
        if toks[0] == "generate":
            return await self.generate(toks)
        if toks[0] == "show":
            return await self.show(toks)
        if len(toks) == 1:
            return self.incomplete(toks)
        return self.invalid(toks, 1)

    async def show(self, toks: list[str]) -> str:
        r = self.router
        v13 = r.version == "1.3"
        if toks == ["show"]:
            return self.incomplete(toks)
        if toks == ["show", "version"]:
            return ops.version_text(r.dialect.version, r.dialect.train)
        if toks == ["show", "configuration"]:
            # showCfg --show-active-only --show-hide-secrets: secrets masked (lab/vyos/config.py HIDDEN)
            return _lines(C.curly(r.running, r.schema, hide_secrets=True))
        if toks in (["show", "configuration", "commands"], ["show", "configuration", "command"]):
            return _lines(r.commands())
        if toks == ["show", "system", "commit"]:
            revs = [(rev.time, rev.user, rev.via, rev.comment) for rev in r.revisions]
            return ops.commit_log_text(r.release, revs)
        if toks == ["show", "system", "uptime"]:
            # 1.3: op-mode-definitions/show-system.xml.in runs `uptime`; 1.4: src/op_mode/uptime.py
            if v13:
                return await run_shell(ledger_text(r.release, "show.system-uptime"), r.state)
            return await asyncio.to_thread(ops.uptime_text_14)
        if toks == ["show", "host", "name"]:
            # vyos-1x op-mode-definitions/show-host.xml.in (ledger OP_MODE show.host-name)
            return await _run_text(ledger_text(r.release, "show.host-name").split())
        if toks == ["show", "arp"]:
            # 1.3: op-mode-definitions/show-arp.xml.in (equuleus; ledger OP_MODE show.arp);
            # 1.4: src/op_mode/neighbor.py (ledger OP_MODE show.arp), rendered by ops.arp_14
            if v13:
                return await _run_text(ledger_text(r.release, "show.arp").split())
            text = await _run_text(["ip", "--family", "inet", "--json", "neighbor", "list"])
            return ops.arp_14(json.loads(text or "[]"))
        if toks[:3] == ["show", "lldp", "neighbors"]:
            # 1.4: src/op_mode/lldp.py unconf_message; 1.3: src/op_mode/lldp_op.py (equuleus). The lab has
            # no `service lldp`.
            return ledger_text(r.release, "show.lldp.unconfigured")
        if toks == ["show", "interfaces"] and not v13:
            # vyos-1x op-mode-definitions/show-interfaces.xml.in (tag 1.4.0, T5749): show_summary_extended
            return ops.interfaces_extended(await asyncio.to_thread(links))
        if toks in (["show", "interfaces"], ["show", "interfaces", "summary"]):
            # 1.3 (vyatta-op / vyos-1x equuleus show_interfaces.py --action=show-brief) plain `show interfaces`;
            # 1.4.0 `show interfaces summary` (show-interfaces.xml.in: interfaces.py show_summary): fixed width
            return ops.interfaces_summary(await asyncio.to_thread(links))
        if len(toks) == 4 and toks[:3] == ["show", "interfaces", "ethernet"]:
            return await self.interface_detail(toks[3])
        if len(toks) == 5 and toks[:2] == ["show", "interfaces"] and toks[2] == "wireguard" and toks[4] == "summary":
            if r.dialect.wg_summary_report:  # 1.5: VyOS's own report (vyos-1x current interfaces_wireguard.py)
                dump = await _run_text(["wg", "show", "all", "dump"])
                return await asyncio.to_thread(ops.wireguard_summary, toks[3], r.running, dump, r.release)
            return await _run_text(["wg", "show", toks[3]])  # 1.4.0: `sudo wg show "$4"`
        if len(toks) == 5 and toks[:3] == ["show", "interfaces", "wireguard"] and toks[4] == "public-key":
            return await _run_text(["wg", "show", toks[3], "public-key"])
        if r.dialect.has_show_wireguard and toks[:2] == ["show", "wireguard"]:
            return await self.show_wireguard_13(toks[2:])
        if toks[:2] == ["show", "bfd"]:
            return await self.show_bfd(toks)
        if toks == ["show", "firewall"] and not v13:
            # 1.4.0 op-mode-definitions/firewall.xml.in `show firewall` (1.3's vyatta-op tree is not modelled)
            return await asyncio.to_thread(show_firewall_14, r.running)
        if toks[:3] == ["show", "ip", "route"] and len(toks) >= 4 and toks[3] in ("forward", "cache", "summary"):
            return await self.show_ip_route_op(toks)
        if any(tuple(toks[: len(p)]) == p for p in VTYSH_SHOWS):
            return await asyncio.to_thread(r.frr.show, " ".join(toks))
        known = {"bfd", "version", "configuration", "system", "host", "arp", "lldp", "interfaces", "ip", "ipv6", "bgp"}
        if toks[1] not in known | ({"wireguard"} if v13 else set()):
            return self.invalid(toks, 1)
        if len(toks) == 2:
            return self.incomplete(toks)
        return self.invalid(toks, 2)

    async def show_bfd(self, toks: list[str]) -> str:
        """vyos-1x op-mode-definitions/show-bfd.xml.in (equuleus and sagitta, the same tree; sagitta adds
        `static routes`): `show bfd` and `show bfd peer` are nodes without a command; `peers [brief|counters]`
        run `vtysh -c "show bfd peers[ brief| counters]"`; `peer ADDR [counters]` runs `vtysh -c "show bfd
        peers[ counters]"` piped into the ledger's `show.bfd.peer` sed. There is no json node."""
        r = self.router
        rest = toks[2:]
        if rest in ([], ["peer"]):
            return self.incomplete(toks)
        if rest == ["peers"]:
            return await asyncio.to_thread(r.frr.show, "show bfd peers")
        if len(rest) == 2 and rest[0] == "peers" and rest[1] in ("brief", "counters"):
            return await asyncio.to_thread(r.frr.show, f"show bfd peers {rest[1]}")
        if rest[:1] == ["peer"] and (len(rest) == 2 or (len(rest) == 3 and rest[2] == "counters")):
            text = await asyncio.to_thread(r.frr.show, "show bfd peers" + (" counters" if len(rest) == 3 else ""))
            sed = shlex.split(ledger_text(r.release, "show.bfd.peer", addr=rest[1]))
            return await _run_text(sed, stdin=text)
        if r.version != "1.3" and rest == ["static", "routes"]:
            return await asyncio.to_thread(r.frr.show, "show bfd static route")
        words = ["peer", "peers"] + (["static"] if r.version != "1.3" else [])
        if rest[0] not in words:
            return self.invalid(toks, 2)
        if rest == ["static"]:
            return self.incomplete(toks)
        return self.invalid(toks, min(len(toks) - 1, 4 if rest[0] == "peer" else 3))

    async def interface_detail(self, name: str) -> str:
        cur = await asyncio.to_thread(links)
        if name not in cur:
            return ""  # filtered_interfaces() yields nothing: nothing printed
        text = await _run_text(["ip", "addr", "show", name])
        return await asyncio.to_thread(ops.interface_detail, name, text, cur[name].get("ifalias", ""))

    async def show_wireguard_13(self, rest: list[str]) -> str:
        r = self.router
        wg = r.wg
        if rest == ["keypairs", "pubkey"] or rest[:2] == ["keypairs", "pubkey"] and len(rest) == 3:
            name = rest[2] if len(rest) == 3 else "default"
            f = wg.keys / f"{name}.pub"
            # equuleus src/op_mode/wireguard.py showkey(): the key, else "{path} not found"
            missing = ledger_text(r.release, "wireguard.keypair_missing", name=name)
            return f.read_text() if f.exists() else missing
        if rest == ["keypairs"]:
            return _lines(sorted(p.stem for p in wg.keys.glob("*.pub")))
        if len(rest) == 3 and rest[0] == "interfaces" and rest[2] == "summary":
            return await _run_text(["wg", "show", rest[1]])
        return f"\n  Invalid command: [show wireguard {' '.join(rest)}]\n\n"

    async def generate(self, toks: list[str]) -> str:
        r = self.router
        if r.version == "1.3" and toks == ["generate", "wireguard", "default-keypair"]:
            # equuleus op-mode-definitions/wireguard.xml.in: wireguard.py --genkey -> /config/auth/wireguard/default
            return await self.generate_keypair_13("default")
        if r.version == "1.3" and toks[:3] == ["generate", "wireguard", "named-keypairs"] and len(toks) == 4:
            if not re.fullmatch(r"[-_a-zA-Z0-9.]{1,100}", toks[3]):
                return "\n  Invalid key name\n\n"
            return await self.generate_keypair_13(toks[3])
        if r.version == "1.4" and toks == ["generate", "pki", "wireguard", "key-pair"]:
            from .kernel import wg_genkey

            priv, pub = await asyncio.to_thread(wg_genkey)
            return f"Private key: {priv}\nPublic key: {pub}\n"
        return f"\n  Invalid command: [{' '.join(toks)}]\n\n"

    async def ping(self, args: list[str]) -> str:
        cmd = ["ping", args[0]]
        i = 1
        opts = {"count": "-c", "interface": "-I", "source-address": "-I", "interval": "-i", "size": "-s", "ttl": "-t"}
        count_given = False
        while i + 1 < len(args) + 0 and args[i] in opts:
            cmd += [opts[args[i]], args[i + 1]]
            count_given |= args[i] == "count"
            i += 2
        if i != len(args):
            return self.invalid_line("ping " + " ".join(args))
        if not count_given:
            cmd += ["-c", "3"]  # no Ctrl-C handling while a command runs here: stop by itself
        return await _run_text(cmd)

    # ------------------------------------------------------------ config mode

    async def config_command(self, line: str) -> str:
        r = self.router
        if not line:
            return ""
        segs = split_pipes(line)
        if len(segs) > 1:
            head = segs[0].split()
            if head[:1] == ["run"]:
                return await self.op_command(line.split(None, 1)[1])
            if head[:1] in (["show"], ["compare"]):
                out = await self.config_command(segs[0].strip())
                cmds = self.commands_pipe(head[1:]) if head[0] == "show" else None
                return await self.pipes(out, segs[1:], commands=cmds)
        try:
            toks = shlex.split(line)
        except ValueError:
            return self.invalid_line(line)
        cmd, args = toks[0], toks[1:]
        if cmd == "set":
            if not args:
                return self.invalid_line("set")
            try:
                info = C.set_path(self.candidate, r.schema, args)
            except C.PathError as e:
                return "\n" + _indent(e.lines + ["Set failed"]) + "\n"
            return ("\n" + _indent(info) + "\n") if info else ""
        if cmd == "delete":
            if not args:
                return self.invalid_line("delete")
            try:
                C.delete_path(self.candidate, r.schema, args)
            except C.PathError as e:
                return "\n" + _indent(e.lines + ["Delete failed"]) + "\n"
            return ""
        if cmd == "show":
            return self.show_candidate(args)
        if cmd == "compare":
            return self.compare(args)
        if cmd == "commit":
            comment = ""
            if args[:1] == ["comment"] and len(args) == 2:
                comment = args[1]
            elif args:
                return f"\n  Invalid command: [{' '.join(toks)}]\n\n"
            return await self.commit(comment)
        if cmd == "commit-confirm":
            return await self.commit_confirm(args)
        if cmd == "confirm" and not args:
            return await self.confirm()
        if cmd == "discard" and not args:
            # vyatta-cfg src/cstore/cstore.cpp Cstore::discardChanges (ledger discard.*): no indent
            if not self.changed():
                return ledger_text(r.release, "discard.nothing")
            self.candidate = C.clone(r.running)
            return ledger_text(r.release, "discard.discarded")
        if cmd == "save":
            # ledger LIFECYCLE save.*: vyatta-cfg-run vyatta_config_save warns about uncommitted changes; 1.3's
            # vyatta-save-config.pl says `Saving configuration to '...'...` / `Done`, 1.4+'s
            # vyos-save-config.py prints nothing.
            warn = self.text("save.uncommitted") if self.changed() else ""
            name = args[0] if args else "/config/config.boot"
            try:
                await asyncio.to_thread(r.save, name)
            except (C.PathError, OSError) as e:
                return f"{warn}\n  {e}\n\n"
            shown = name if name.startswith("/") else f"/config/{name}"
            return warn + self.text("save.done", file=shown)
        if cmd in ("load", "merge"):
            return self.load(cmd, args)
        if cmd == "rollback":
            return await self.rollback(args)
        if cmd == "rollback-soft" and r.version != "1.3":
            return self.rollback_soft(args)
        if cmd == "run":
            if not args:
                return self.invalid_line("run")
            return await self.op_command(line.split(None, 1)[1])
        if cmd == "exit":
            return self.exit(args)
        return self.invalid_line(" ".join(toks))

    async def generate_keypair_13(self, name: str) -> str:
        """equuleus src/op_mode/wireguard.py genkey(): a keypair that exists is only re-generated after `y`/`Y`
        to input() (ledger wireguard.keypair_regenerate); else it is made. Prints nothing more."""
        r = self.router
        if (r.wg.keys / f"{name}.key").exists() and (r.wg.keys / f"{name}.pub").exists():
            self.write(ledger_text(r.release, "wireguard.keypair_regenerate"))
            answer = await self.readline()
            if answer is None or answer.strip() not in ("y", "Y"):
                return ""
        await asyncio.to_thread(r.wg.generate_named, name)
        return ""

    def commands_pipe(self, args: list[str]) -> str:
        """`show [path] | commands` in config mode (vyatta-op `commands ()`): refused with uncommitted
        changes, else vyos-config-to-commands of the shown (sub)tree: set lines relative to the path."""
        r = self.router
        if self.changed():
            return ledger_text(self.router.release, "op.pipe.commands-uncommitted")
        try:
            keys, _, _ = C.resolve(r.schema, args, for_delete=True) if args else ([], None, None)
        except C.PathError:
            return ""
        prefix = "set " + "".join(k + " " for k in keys)
        lines = [ln for ln in r.commands() if ln.startswith(prefix)]
        return _lines(["set " + ln[len(prefix) :] for ln in lines])

    def show_candidate(self, args: list[str]) -> str:
        r = self.router
        tree: C.Tree = self.candidate
        spec = r.schema
        if args:
            try:
                keys, spec_at, val = C.resolve(r.schema, args, for_delete=True)
            except C.PathError as e:
                return "\n" + _indent(e.lines) + "\n\n"
            sub = C.sub(self.candidate, *keys)
            if not C.has(self.candidate, *keys):
                return "\n  Configuration under specified path is empty\n\n"
            if spec_at.kind in ("leaf", "flag"):
                return _lines([f"{keys[-1]} {v}" for v in sub] if sub else [keys[-1]])
            tree = sub
            spec = C.schema_at(r.schema, keys)
            if spec.kind == "tag":  # `show interfaces ethernet`: every entry
                lines = []
                for name in C.ordered(tree, spec):
                    lines += C.render_entry(C.Entry(f"{keys[-1]} {name}", tree[name], C.Node("node", spec.children)), 0)
                return _lines(lines)
        return _lines(C.curly(tree, spec))

    def compare(self, args: list[str]) -> str:
        """`compare`, `compare saved`, `compare N`, `compare N M` (ledger compare.*). vyatta-cfg-run
        vyatta_config_compare: any prefix of `saved` is `saved`. 1.4/current: vyos-1x config_mgmt.py
        wrap_compare() drops words that are not numbers, compare() returns the diff or a text ending in a
        newline and run() print()s it, so a blank line follows either. 1.3: vyatta-config-mgmt.pl --action=diff
        prints the diff or a text with one newline; 1.3 `compare saved` is a bare `cli-shell-api showConfig`
        context diff, which prints nothing when the configs are equal."""
        r = self.router
        v13 = r.version == "1.3"
        after = ledger_text(r.release, "compare.after_diff")
        if args and "saved".startswith(args[0]):
            old = r.saved()
            new = self.candidate
            empty = ledger_text(r.release, "compare.no_changes_saved")
        else:
            revs = [a for a in args if a.isdigit()] if not v13 else list(args)
            if v13 and revs and not all(a.isdigit() for a in revs):
                return ledger_text(r.release, "compare.invalid_number", rev=next(a for a in revs if not a.isdigit()))
            if not revs:
                old, new = r.running, self.candidate
                empty = ledger_text(r.release, "compare.no_changes")
            else:
                trees = []
                for a in revs[:2]:
                    t = r.revision(int(a))
                    if t is None:
                        return ledger_text(r.release, "compare.invalid_revision", rev=a)
                    trees.append(t)
                if len(trees) == 1:
                    old, new = trees[0], self.candidate
                    empty = ledger_text(r.release, "compare.no_changes_revision", rev=revs[0])
                else:  # the second (older) revision against the first
                    old, new = trees[1], trees[0]
                    empty = ledger_text(r.release, "compare.no_changes_revisions", rev1=revs[0], rev2=revs[1])
        out = C.diff(old, new, r.schema)
        if out:
            return _lines(out) + after
        return empty

    async def commit(self, comment: str) -> str:
        r = self.router
        if not self.changed():
            return self.text("commit.nothing")
        res = await asyncio.to_thread(r.commit, self.candidate, self.user, comment)
        if not res.ok:
            return "\n" + _lines(res.lines)
        return ""

    async def ask_yes_no(self, question: str) -> bool | None:
        """vyos-1x python/vyos/utils/io.py ask_yes_no(default=True) (sagitta): writes `QUESTION [Y/n] `,
        Enter = yes, y/ye/yes, n/no (any case); anything else: `Please respond with yes/y or no/n` and the
        question again; Ctrl-C = no. None: the session is gone (the process dies with it)."""
        while True:
            self.write(f"{question} [Y/n] ")
            answer = await self.readline()
            if answer is None:
                return None
            if answer == "\x03":
                return False
            c = answer.strip().lower()
            if c == "":
                return True
            if c in ("y", "ye", "yes"):
                return True
            if c in ("n", "no"):
                return False
            self.write("Please respond with yes/y or no/n\n")

    async def prompt_confirm(self, question: str) -> bool | None:
        """1.3: IO::Prompt `prompt("Proceed? [confirm]", -y1d=>"y")` (vyatta-config-mgmt.pl, equuleus):
        shown as `Proceed? [confirm][y]` (shared/reference/vyos-cli.md); default y; true only for an answer
        starting with y. None: the session is gone."""
        self.write(f"{question}[y] ")
        answer = await self.readline()
        if answer is None:
            return None
        c = answer.strip().lower() or "y"
        return c.startswith("y")

    async def commit_confirm(self, args: list[str]) -> str:
        r = self.router
        minutes, comment = 10, ""  # DEFAULT_TIME_MINUTES (config_mgmt.py); `local minutes=10` (vyatta-cfg-run)
        rest = list(args)
        if rest and rest[0].isdigit():
            minutes = int(rest.pop(0))
        if rest[:1] == ["comment"] and len(rest) == 2:
            comment = rest[1]
        elif rest:
            return f"\n  Invalid command: [commit-confirm {' '.join(args)}]\n\n"
        if minutes < 1:
            return "\n  Invalid value\n\n"
        # vyatta-cfg-run vyatta_config_commit-confirm (1.3 and 1.4): checked before anything else.
        if not self.changed():
            return self.text("commit.nothing")
        if r.version == "1.3":
            return await self.commit_confirm_13(minutes, comment)
        return await self.commit_confirm_14(minutes, comment)

    async def commit_confirm_14(self, minutes: int, comment: str) -> str:
        """vyos-1x python/vyos/config_mgmt.py commit_confirm(): sagitta / 1.4.0 (no action node) and vyos-1x
        current (T5976: `action reload` asks about a reload, warns about unsaved commits only when the action
        is reboot, and drops the blank line before `Proceed ?`). Texts: ledger LIFECYCLE commit_confirm.*."""
        r = self.router
        if r.pending():
            return self.text("commit_confirm.another_pending")  # returns 1: vyatta-cfg-run does not commit
        reboot = r.reboot_unconfirmed(self.candidate)
        warn = ""
        if (reboot or not r.confirm_action_node) and await asyncio.to_thread(r.unsaved_commits):
            warn = self.text("commit_confirm.unsaved")
        key = "commit_confirm.question" if reboot else "commit_confirm.question_reload"
        yes = await self.ask_yes_no(warn + self.text(key, minutes=minutes))
        if yes is None:
            raise Exit
        if not yes:
            return self.text("commit_confirm.canceled")
        # The timer starts before the commit (systemd-run, then vyatta_config_commit with IN_COMMIT_CONFIRM):
        # a commit that fails leaves it running, and a session cut from here on does not stop it.
        r.start_confirm_timer(minutes, reboot)
        key = "commit_confirm.initialized" if reboot else "commit_confirm.initialized_reload"
        out = self.text(key, minutes=minutes)
        res = await asyncio.to_thread(r.commit_confirmed, self.candidate, self.user, comment)
        if not res.ok:
            return out + "\n" + _lines(res.lines)
        return out

    async def commit_confirm_13(self, minutes: int, comment: str) -> str:
        """vyatta-config-mgmt scripts/vyatta-config-mgmt.pl --action=commit-confirm (equuleus). Texts: ledger
        LIFECYCLE commit_confirm.*."""
        r = self.router
        if r.pending():
            # It prints this and exits 0, so vyatta_config_commit-confirm goes on with a plain commit.
            return self.text("commit_confirm.another_pending") + await self.commit(comment)
        if C.value(self.candidate, "system", "config-management", "commit-revisions") is None:
            return self.text("commit_confirm.no_revisions")
        self.write(self.text("commit_confirm.question", minutes=minutes))
        yes = await self.prompt_confirm("Proceed? [confirm]")
        if yes is None:
            raise Exit
        if not yes:
            return self.text("commit_confirm.canceled")
        r.start_confirm_timer(minutes, True)  # `at now + N minutes`, before the commit
        res = await asyncio.to_thread(r.commit_confirmed, self.candidate, self.user, comment)
        if not res.ok:
            return "\n" + _lines(res.lines)
        return ""

    async def confirm(self) -> str:
        """1.4: config_mgmt.py confirm(): `Reboot timer stopped` (`Reload timer stopped` with action reload,
        T5976) or `No confirm pending`. 1.3: vyatta-config-mgmt.pl --action=confirm prints nothing when it
        stops the job, else `No confirm pending`. Texts: ledger LIFECYCLE confirm.*."""
        r = self.router
        reboot = r.reboot_unconfirmed(self.candidate)
        ok = await asyncio.to_thread(r.confirm)
        if not ok:
            return self.text("confirm.none")
        return self.text("confirm.stopped" if reboot or r.version == "1.3" else "confirm.stopped_reload")

    def exit(self, args: list[str]) -> str:
        """vyatta-cfg functions/interpreter/vyatta-cfg-run vyatta_config_exit / really_exit (the same on equuleus,
        sagitta and current; ledger exit.*). The warning is the session's own `.unsaved` marker: this session
        committed since its last save (the lab: and config.boot still differs from the running config)."""
        r = self.router
        if len(args) > 1 or (args and not "discard".startswith(args[0])):
            return ledger_text(r.release, "exit.invalid_argument", args=" ".join(args))
        if self.changed() and not args:
            return ledger_text(r.release, "exit.modified")
        warn = ""
        if self.committed and r.saved() != r.running:
            warn = ledger_text(r.release, "exit.unsaved")
        self.candidate = C.clone(r.running)
        self.config_mode = False
        self.committed = False
        return warn + ledger_text(r.release, "exit.exit")

    def load(self, cmd: str, args: list[str]) -> str:
        """`load FILE` / `merge FILE` (vyatta-cfg-run vyatta_config_load / vyatta_config_merge, then vyos-1x
        src/helpers/vyos-load-config.py / vyos-merge-config.py; the same texts on 1.3, 1.4 and current; ledger
        load.*, merge.*). Files are the router's (/config, /var/tmp, /tmp, /home/vyos: what the op-mode shell
        sees, lab/vyos/rootfs.py); the config session's working directory is the op user's home."""
        r = self.router
        if self.changed():
            return ledger_text(r.release, f"{cmd}.modified")
        if cmd == "merge" and not args:
            return ledger_text(r.release, "merge.usage")
        name = args[0] if args else "config.boot"
        if cmd == "load":
            # get_local_config(): the name as given (relative: the working directory), then /config/NAME
            found = None
            for cwd in (rootfs.HOME, "/config"):
                try:
                    p = r.resolve_file(name, cwd=cwd)
                except C.PathError:
                    continue
                if p.is_file():
                    found = p
                    break
                if name.startswith("/"):
                    break
            if found is None:
                return ledger_text(r.release, "load.no_such_file", name=name)
            out = ledger_text(r.release, "load.loading", name=name)
        else:
            # /config/NAME first (also for an absolute NAME), then NAME as given
            canonical = f"/config/{name}"
            found = None
            for cand, cwd in ((canonical, "/config"), (name, rootfs.HOME)):
                try:
                    p = r.resolve_file(cand, cwd=cwd)
                except C.PathError:
                    continue
                if p.is_file():
                    found = p
                    break
            if found is None:
                return ledger_text(r.release, "merge.no_such_file", canonical=canonical, name=name)
            out = ""
        try:
            paths = C.parse_boot(found.read_text())
        except (C.PathError, OSError, ValueError, UnicodeDecodeError):
            return out + ledger_text(r.release, "load.parse_failed")
        base: C.Tree = {} if cmd == "load" else C.clone(self.candidate)
        for path in paths:
            try:
                C.set_path(base, r.schema, path)
            except C.PathError:
                continue  # loadFile: `Set [...] failed` into a pipe nobody reads; the path is skipped
        self.candidate = base
        if not self.changed():
            return out + ledger_text(r.release, "load.no_changes")
        return out + ledger_text(r.release, f"{cmd}.complete")

    async def rollback(self, args: list[str]) -> str:
        """`rollback N` reboots into revision N. 1.4: config_mgmt.py rollback(); 1.3: vyatta-config-mgmt.pl
        --action=rollback --revnum (equuleus). Argument check: vyatta-cfg-run vyatta_config_rollback."""
        r = self.router
        if len(args) != 1:
            return self.text("rollback.args")
        if not args[0].isdigit():
            return f"\n  Invalid command: [rollback {args[0]}]\n\n"
        n = int(args[0])
        if r.version == "1.3":
            if not n < len(r.revisions):
                return self.text("rollback.invalid", rev=n)
            yes = await self.prompt_confirm(self.text("rollback.question"))
        else:
            if not 0 <= n < len(r.revisions):
                return self.text("rollback.invalid", rev=n, count=len(r.revisions))
            yes = await self.ask_yes_no(self.text("rollback.question"))
        if yes is None:
            raise Exit
        if not yes:
            return self.text("rollback.canceled")
        await asyncio.to_thread(r.rollback_to, n, self.user)
        raise Exit  # the box reboots: the daemon closes every session

    def rollback_soft(self, args: list[str]) -> str:
        """1.4 `rollback-soft N`: config_mgmt.py rollback_soft() loads revision N into the session."""
        r = self.router
        if len(args) != 1:
            return self.text("rollback.args")
        if not args[0].isdigit():
            return f"\n  Invalid command: [rollback-soft {args[0]}]\n\n"
        n = int(args[0])
        rev = r.revision(n)
        if rev is None:
            return self.text("rollback.invalid", rev=n, count=len(r.revisions))
        self.candidate = rev
        return self.text("rollback_soft.applied")


# ---------------------------------------------------------------- helpers


def _open_quote(line: str) -> bool:
    """Whether bash would still be inside a quote (or after a trailing backslash) at the end of ``line``."""
    try:
        shlex.split(line)
    except ValueError:
        return True
    return False


def _printed(out: str) -> str:
    """vyos.opmode.run(): the result of cmd() (stripped) is printed only when it is not empty."""
    out = out.strip()
    return out + "\n" if out else ""


def _lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _indent(lines: list[str]) -> str:
    return "".join(f"  {line}\n" for line in lines)


async def _run_text(cmd: list[str], stdin: str | None = None) -> str:
    p = await asyncio.create_subprocess_exec(
        *cmd,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await p.communicate(stdin.encode() if stdin is not None else None)
    return out.decode(errors="replace")


def now() -> float:
    return time.time()
