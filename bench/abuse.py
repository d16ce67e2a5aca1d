"""Bad input, replayed: every case is `cmk-wizard ...` in a subprocess with a deadline, and the tally
is `N inputs, N tracebacks, N wrong exit codes, N hangs, N files replaced`.

Run by hand: `.venv/bin/python bench/abuse.py [--repo DIR] [--jobs 2] [--deadline 20] [-v]`.
`--repo DIR` replays against another checkout (e.g. `git archive <commit>` unpacked somewhere) to
get the "before" figures. Loopback only: every process runs with CMK_WIZARD_OFFLINE=1, talks to an
emulator on 127.0.0.1 (one shared, or its own embedded one), or to a listener of ours on 127.0.0.1.

A traceback is a Python traceback or cmk-wizard's one-line "internal error" (the same crash,
folded). A file is replaced when a symlink, FIFO or device node we planted (in a temporary
directory: never a real /dev entry) is no longer the same node, or the file a symlink points to
changed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pty
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from wizard.emulator import Emulator

REPO = Path(__file__).resolve().parents[1]
SUB = "c1a4e8b2-6d3f-4a9e-8b7c-5f2d1e0a9b63"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-cmk-demo"
CLUSTERS = f"{RG}/providers/Microsoft.DocumentDB/mongoClusters"
IDENTITIES = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
GOOD_CLUSTER = f"{CLUSTERS}/cluster-healthy"


@dataclass
class Case:
    """One bad input: the arguments, the exit code the contract asks for, how it is started."""

    name: str
    args: list[str]
    expect: int = 2
    env: dict[str, str] = field(default_factory=dict)
    stdin: str = "devnull"  # devnull | closed | pty
    stdout: str = "pipe"  # pipe | closed-pipe
    guards: list[Path] = field(default_factory=list)


@dataclass
class Outcome:
    """What one case did."""

    case: Case
    code: int | None
    traceback: bool
    replaced: bool
    seconds: float
    stderr: str

    @property
    def hung(self) -> bool:
        return self.code is None

    @property
    def wrong_code(self) -> bool:
        return self.code is not None and self.code != self.case.expect


class SilentListener:
    """Accepts on 127.0.0.1 and never answers (a stalled metadata endpoint)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.socket.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.socket.close()
        for connection in self.held:
            connection.close()


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def _fingerprint(path: Path) -> tuple[int, int, str, bytes]:
    """What must not change about a planted node: its type, inode, link target and target's bytes."""
    info = os.lstat(path)
    target = os.readlink(path) if stat.S_ISLNK(info.st_mode) else ""
    content = Path(target).read_bytes() if target and Path(target).is_file() else b""
    return info.st_mode, info.st_ino, target, content


def _cluster_cases(conn: str) -> list[Case]:
    ids = [
        f"{CLUSTERS}/.",
        f"{CLUSTERS}/..",
        f"{CLUSTERS}/...",
        f"{CLUSTERS}/cluster-healthy.",
        f"{CLUSTERS}/",
        f"{CLUSTERS}//x",
        f"{CLUSTERS}/a%2e%2e",
        f"{CLUSTERS}/a b",
        f"{CLUSTERS}/" + "x" * 5000,
        f"/subscriptions/{SUB}/resourceGroups/../providers/Microsoft.DocumentDB/mongoClusters/x",
        f"/subscriptions/{SUB}/resourceGroups/./providers/Microsoft.DocumentDB/mongoClusters/x",
        f"/subscriptions/{SUB}/resourceGroups//providers/Microsoft.DocumentDB/mongoClusters/x",
        "/subscriptions/../resourceGroups/rg/providers/Microsoft.DocumentDB/mongoClusters/x",
        f"//subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.DocumentDB/mongoClusters/x",
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.DocumentDB//mongoClusters/x",
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft..DocumentDB/mongoClusters/x",
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/./mongoClusters/x",
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/../mongoClusters/x",
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/x",
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.DocumentDB/mongoClusters/x/extra",
        "subscriptions/x",
        "",
        "\t",
    ]
    return [
        Case(
            f"--cluster {cid[-40:]!r}",
            ["diagnose", "--emulator", conn, "--retry-total", "0", "--cluster", cid],
        )
        for cid in ids
    ]


def _connection_cases(conn: str, tmp: Path) -> list[Case]:
    base = json.loads(Path(conn).read_text())
    edits: dict[str, dict[str, object]] = {
        "port 99999": {"armEndpoint": "https://127.0.0.1:99999"},
        "port 0": {"armEndpoint": "https://127.0.0.1:0"},
        "no port": {"armEndpoint": "https://127.0.0.1"},
        "http": {"armEndpoint": base["armEndpoint"].replace("https", "http")},
        "remote host": {"armEndpoint": "https://management.azure.com"},
        "path": {"armEndpoint": base["armEndpoint"] + "/../x"},
        "user info": {"armEndpoint": base["armEndpoint"].replace("//", "//u:p@")},
        "cluster dot": {"clusters": [f"{CLUSTERS}/."]},
        "cluster dotdot rg": {"clusters": [f"{RG}/../x"]},
        "cluster list": {"clusters": "x"},
        "subscription path": {"subscriptionId": "../../x"},
        "tenant path": {"tenantId": "a/b"},
        "vault port": {"vaults": {"kv": "https://127.0.0.1:70000"}},
        "vault remote": {"vaults": {"kv": "https://kv.vault.azure.net"}},
        "ca missing": {"caBundle": str(tmp / "nope.pem")},
    }
    cases: list[Case] = []
    for name, change in edits.items():
        path = tmp / f"conn-{len(cases)}.json"
        path.write_text(json.dumps({**base, **change}))
        cases.append(Case(f"connection file: {name}", ["diagnose", "--emulator", str(path)]))
    raw = {
        "deep JSON": "[" * 100_000 + "]" * 100_000,
        "not JSON": "{not json",
        "binary": "\udcff",
        "empty": "",
        "list": "[]",
    }
    for name, text in raw.items():
        path = tmp / f"conn-{len(cases)}.json"
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        cases.append(Case(f"connection file: {name}", ["diagnose", "--emulator", str(path)]))
    fifo = tmp / "conn-fifo.json"
    os.mkfifo(fifo)
    cases.append(Case("connection file: FIFO", ["diagnose", "--emulator", str(fifo)]))
    cases.append(Case("connection file: directory", ["diagnose", "--emulator", str(tmp)]))
    big = tmp / "conn-big.json"
    big.write_text(json.dumps({**base, "pad": "x" * (2 << 20)}))
    cases.append(Case("connection file: 2 MiB", ["diagnose", "--emulator", str(big)]))
    return cases


def _number_cases() -> list[Case]:
    fix = ["fix", "--scenario", "key-expired", "--all", "--dry-run"]
    table: list[tuple[list[str], str, list[str]]] = [
        (fix, "--expiry-days", ["0", "-1", "3651", "3000000", "nan", "1e3", "1.5"]),
        (["diagnose", "--scenario", "healthy"], "--timeout", ["nan", "inf", "-1", "0", "1e308", "3601"]),
        (["diagnose", "--scenario", "healthy"], "--retry-total", ["-1", "21", "1e9", "nan"]),
        (["demo"], "--revalidate-seconds", ["nan", "inf", "-1", "1e308"]),
        (fix, "--revalidate-seconds", ["nan", "-1"]),
        (["watch", "--scenario", "healthy"], "--revalidate-seconds", ["inf"]),
        (["watch", "--scenario", "healthy"], "--wait-timeout", ["0", "nan", "inf", "1e308"]),
        (["emulator", "--scenario", "healthy"], "--revalidate-seconds", ["nan", "-1"]),
        (["emulator", "--scenario", "healthy"], "--latency-ms", ["-1", "60001", "1e9", "nan"]),
        (["emulator", "--scenario", "healthy"], "--port", ["-1", "65536", "99999", "http"]),
        (["emulator", "--scenario", "healthy"], "--fault-rate", ["nan", "2", "-0.1"]),
    ]
    return [
        Case(f"{head[0]} {flag} {value}", [*head, f"{flag}={value}"])
        for head, flag, values in table
        for value in values
    ]


def _billion_laughs() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    return "\n".join([*lines, "name: *a9"]) + "\n"


def _estate_cases(tmp: Path) -> list[Case]:
    key = "name: x\nvaults: [{name: kv-abc, keys: [{name: k, %s}]}]\n"
    texts = {
        "bomb.yaml": _billion_laughs(),
        "deep.yaml": "name: x\nclusters: " + "[" * 50_000 + "]" * 50_000 + "\n",
        "deep-map.yaml": "name: x\nclusters: " + "{a: " * 5_000 + "1" + "}" * 5_000 + "\n",
        "deep.json": '{"name": "x", "clusters": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "self.yaml": "name: x\nclusters: &c [*c]\n",
        "epoch.yaml": key % "expires: 99999999999999",
        "relative.yaml": key % ("expires: '+1" + "0" * 400 + "d'"),
        "nan.yaml": key % "notBefore: .nan",
        "inf.yaml": key % "expires: .inf",
        "1969.yaml": key % "expires: 1969-12-31",
        "year-10000.yaml": key % "expires: '10000-01-01'",
        "tz-edge.yaml": key % "expires: '9999-12-31T23:59:59-05:00'",
        "dotdot-identity.yaml": f"name: x\nclusters: [{{name: c1, identities: ['{RG}/../x']}}]\n",
        "identity-type.yaml": (
            f"name: x\nclusters: [{{name: c1, identities: ['{RG}/providers/Microsoft.KeyVault/vaults/x']}}]\n"
        ),
        "empty-scope.yaml": (
            "name: x\nidentities: [{name: id1}]\nroleAssignments: "
            f"[{{principal: id1, role: Owner, scope: '/subscriptions/{SUB}//resourceGroups/rg'}}]\n"
        ),
        "trailing-dot.yaml": "name: x\nclusters: [{name: 'c1.'}]\n",
        "long-value.yaml": "name: x\nclusters: [{name: c1, provisioningState: '" + "Q" * 200_000 + "'}]\n",
        "bom.json": '\ufeff{"name": "x"}',
        "binary.yaml": "\udcff\udcfe",
        "tabs.yaml": "name: x\n\tclusters: []\n",
    }
    cases = []
    for name, text in texts.items():
        path = tmp / name
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        cases.append(Case(f"estate {name}", ["diagnose", "--scenario", str(path)]))
    big = tmp / "big.yaml"
    big.write_text("name: x\ndescription: '" + "z" * (5 << 20) + "'\n")
    fifo = tmp / "fifo.yaml"
    os.mkfifo(fifo)
    folder = tmp / "folder.yaml"
    folder.mkdir()
    cases += [
        Case("estate 5 MiB", ["diagnose", "--scenario", str(big)]),
        Case("estate FIFO", ["diagnose", "--scenario", str(fifo)]),
        Case("estate directory", ["diagnose", "--scenario", str(folder)]),
        Case("estate emulator --scenario bomb", ["emulator", "--scenario", str(tmp / "bomb.yaml")]),
        Case("estate demo --scenario deep", ["demo", "--scenario", str(tmp / "deep.json")]),
    ]
    return cases


def _output_cases(tmp: Path) -> list[Case]:
    fix = ["fix", "--scenario", "key-expired", "--all", "--yes", "--retry-total", "0"]
    cases: list[Case] = []
    victim = tmp / "victim.md"
    victim.write_text("keep me")

    def planted(kind: str, number: int) -> Path:
        node = tmp / f"out-{number}-{kind}"
        if kind == "symlink":
            node.symlink_to(victim)
        elif kind == "fifo":
            os.mkfifo(node)
        elif kind == "device":
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        elif kind == "symlink-to-fifo":
            fifo = tmp / f"out-{number}-target-fifo"
            os.mkfifo(fifo)
            node.symlink_to(fifo)
        return node

    kinds = ["symlink", "fifo", "symlink-to-fifo"] + (["device"] if os.geteuid() == 0 else [])
    for kind in kinds:
        node = planted(kind, len(cases))
        audit = str(tmp / f"audit-{len(cases)}.jsonl")
        cases.append(
            Case(f"--report {kind}", [*fix, "--report", str(node), "--audit-log", audit], guards=[node])
        )
    for kind in ["fifo", "symlink-to-fifo"] + (["device"] if os.geteuid() == 0 else []):
        node = planted(kind, len(cases))
        cases.append(Case(f"--audit-log {kind}", [*fix, "--audit-log", str(node)], guards=[node]))
    audit = str(tmp / "audit-ok.jsonl")
    blocker = tmp / "a-file"
    blocker.write_text("x")
    cases += [
        Case("--report /proc/x.md", [*fix, "--report", "/proc/cmk-wizard-abuse.md", "--audit-log", audit]),
        Case("--report /sys/x.md", [*fix, "--report", "/sys/cmk-wizard-abuse.md", "--audit-log", audit]),
        Case("--report directory", [*fix, "--report", str(tmp), "--audit-log", audit]),
        Case("--report under a file", [*fix, "--report", str(blocker / "r.md"), "--audit-log", audit]),
        Case("--audit-log /dev/full", [*fix, "--audit-log", "/dev/full"]),
        Case("--audit-log /proc/x", [*fix, "--audit-log", "/proc/cmk-wizard-abuse.jsonl"]),
        Case("--audit-log /sys/x", [*fix, "--audit-log", "/sys/cmk-wizard-abuse.jsonl"]),
        Case("--audit-log directory", [*fix, "--audit-log", str(tmp)]),
        Case("demo --audit-log /proc/x", ["demo", "--audit-log", "/proc/cmk-wizard-abuse.jsonl"]),
        Case("demo --report-dir /proc", ["demo", "--report-dir", "/proc/cmk-wizard-abuse"]),
    ]
    return cases


def _process_cases(tmp: Path) -> list[Case]:
    fix = ["fix", "--scenario", "multi-fault", "--all", "--retry-total", "0"]
    audit = ["--audit-log", str(tmp / "audit-edges.jsonl")]
    return [
        Case("diagnose | (reader gone)", ["diagnose", "--scenario", "key-expired"], 3, stdout="closed-pipe"),
        Case("fix --yes | (reader gone)", [*fix, "--yes", *audit], 3, stdout="closed-pipe"),
        Case("scenarios | (reader gone)", ["scenarios"], 3, stdout="closed-pipe"),
        Case("fix without --yes, stdin closed", [*fix, *audit], 2, stdin="closed"),
        Case("fix without --yes, stdin /dev/null", [*fix, *audit], 2),
        Case("tui, stdin /dev/null", ["tui"], 2),
        Case("demo, stdin /dev/null", ["demo"], 2),
        Case("demo, stdin closed", ["demo"], 2, stdin="closed"),
        Case("demo, terminal in, stdout piped", ["demo"], 2, stdin="pty"),
        Case("tui --scenario, terminal in, stdout piped", ["tui", "--scenario", "healthy"], 2, stdin="pty"),
    ]


def _sign_in_cases(tmp: Path, silent_port: int, conn_wrong_token: str) -> list[Case]:
    def identity(port: int) -> dict[str, str]:
        return {
            "IDENTITY_ENDPOINT": f"http://127.0.0.1:{port}/msi/token",
            "IDENTITY_HEADER": "abuse",
            "PATH": str(tmp),
        }

    live = ["--cluster", GOOD_CLUSTER, "--retry-total", "0", "--timeout", "2"]
    refused = identity(_closed_port())
    return [
        Case("sign-in: silent endpoint, diagnose", ["diagnose", *live], 3, env=identity(silent_port)),
        Case("sign-in: silent endpoint, watch", ["watch", *live], 3, env=identity(silent_port)),
        Case("sign-in: refused, diagnose", ["diagnose", *live], 3, env=refused),
        Case("sign-in: refused, fix", ["fix", *live, "--all", "--yes"], 3, env=refused),
        Case("sign-in: refused, watch", ["watch", *live], 3, env=refused),
        Case(
            "emulator: wrong token, watch",
            ["watch", "--emulator", conn_wrong_token, "--wait-timeout", "600"],
            3,
        ),
        Case("emulator: wrong token, fix", ["fix", "--emulator", conn_wrong_token, "--all", "--yes"], 3),
    ]


def _command(case: Case, python: str) -> list[str]:
    if case.stdin == "closed":
        return ["sh", "-c", 'exec "$0" -m wizard "$@" <&-', python, *case.args]
    return [python, "-m", "wizard", *case.args]


@contextlib.contextmanager
def _streams(case: Case) -> Iterator[tuple[int | None, int | None]]:
    """stdin and stdout for the case; closed after the process has its copies."""
    opened: list[int] = []
    stdin: int | None = subprocess.DEVNULL
    stdout: int | None = subprocess.PIPE
    if case.stdin == "pty":
        primary, secondary = pty.openpty()
        opened += [primary, secondary]
        stdin = secondary
    elif case.stdin == "closed":
        stdin = None
    if case.stdout == "closed-pipe":
        read_end, write_end = os.pipe()
        os.close(read_end)
        opened.append(write_end)
        stdout = write_end
    try:
        yield stdin, stdout
    finally:
        for fd in opened:
            os.close(fd)


def run_case(case: Case, repo: Path, deadline: float) -> Outcome:
    """Run one case in its own process group; kill the group at the deadline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CMK_WIZARD_", "IDENTITY_", "MSI_"))}
    env |= {"CMK_WIZARD_OFFLINE": "1", "PYTHONPATH": str(repo), **case.env}
    before = [_fingerprint(g) for g in case.guards]
    started = time.monotonic()
    with _streams(case) as (stdin, stdout):
        process = subprocess.Popen(
            _command(case, sys.executable),
            cwd=repo,
            env=env,
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    try:
        out, err = process.communicate(timeout=deadline)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        code = None
    text = (out or b"").decode(errors="replace") + (err or b"").decode(errors="replace")
    replaced = any(_fingerprint(g) != b for g, b in zip(case.guards, before, strict=True))
    return Outcome(
        case,
        code,
        "Traceback (most recent call last)" in text or "internal error" in text,
        replaced,
        time.monotonic() - started,
        (err or b"").decode(errors="replace").strip(),
    )


def cases(tmp: Path, conn: str, silent_port: int, conn_wrong_token: str) -> list[Case]:
    """Every bad input, by kind."""
    return [
        *_cluster_cases(conn),
        *_connection_cases(conn, tmp),
        *_number_cases(),
        *_estate_cases(tmp),
        *_output_cases(tmp),
        *_process_cases(tmp),
        *_sign_in_cases(tmp, silent_port, conn_wrong_token),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout to replay against")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--deadline", type=float, default=20.0, help="seconds before a case is a hang")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    args = parser.parse_args(argv)
    listener = SilentListener()
    with (
        tempfile.TemporaryDirectory(prefix="cmk-abuse-") as folder,
        Emulator("healthy") as healthy,
        Emulator("key-expired", token="not-the-default-token") as guarded,
    ):
        tmp = Path(folder)
        conn, wrong = tmp / "healthy.json", tmp / "wrong-token.json"
        healthy.write_connection_file(conn)
        guarded.write_connection_file(wrong)
        todo = cases(tmp, str(conn), listener.port, str(wrong))
        run: Callable[[Case], Outcome] = lambda case: run_case(case, args.repo.resolve(), args.deadline)  # noqa: E731
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            outcomes = list(pool.map(run, todo))
    listener.close()
    for o in outcomes:
        bad = o.hung or o.wrong_code or o.traceback or o.replaced
        if args.verbose or bad:
            verdict = "HANG" if o.hung else ("BAD " if bad else "ok  ")
            last = o.stderr.splitlines()[-1][:120] if o.stderr else ""
            name = o.case.name[:60]
            print(f"{verdict} {name:<60} exit {o.code} (want {o.case.expect}) {o.seconds:5.1f}s {last}")
    print(
        f"{len(outcomes)} inputs, {sum(o.traceback for o in outcomes)} tracebacks, "
        f"{sum(o.wrong_code for o in outcomes)} wrong exit codes, {sum(o.hung for o in outcomes)} hangs, "
        f"{sum(o.replaced for o in outcomes)} files replaced"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
