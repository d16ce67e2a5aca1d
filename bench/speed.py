"""Issue 16's goals, each as a figure and a ratio or a count: whole-process `diagnose` against a
plain SDK script, round trips when handshakes pay the latency, `fix --all --yes` on multi-fault,
and the two fan-outs (custom roles, the deleted-vault sweep).

Run by hand: `.venv/bin/python bench/speed.py [--runs 5] [--repo DIR]`. Every measured command is
a fresh process (`python -m wizard ...`, PYTHONPATH=DIR, so `--repo` measures another checkout,
e.g. `git archive <commit> | tar -x -C DIR`), against an emulator this script runs on 127.0.0.1;
samples of what is compared are interleaved so machine noise hits both alike; medians printed.
The measured checkout is compiled to bytecode first, as an installed wizard is (this machine sets
PYTHONDONTWRITEBYTECODE=1, so a fresh `git archive` checkout would otherwise compile about a
hundred of its modules in every measured process, and the SDK script, all site-packages, none);
`--source` measures it that way.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from delay_proxy import delayed

from wizard.emulator import Emulator, Estate

ROOT = Path(__file__).resolve().parent.parent
SDK_SCRIPT = r"""
import json, sys
from azure.core.credentials import AccessToken
conn = json.load(open(sys.argv[1]))
cluster_id = conn["clusters"][0]

class Token:
    def get_token(self, *scopes, **kwargs):
        return AccessToken(conn["token"], 4102444800)

from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.mongocluster import MongoClusterMgmtClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest
kw = dict(base_url=conn["armEndpoint"], connection_verify=conn["caBundle"])
sub, cred = conn["subscriptionId"], Token()
parts = cluster_id.split("/")
cluster = MongoClusterMgmtClient(cred, sub, **kw).mongo_clusters.get(parts[4], parts[8])
enc = cluster.properties.encryption.customer_managed_key_encryption
identity_id = enc.key_encryption_key_identity.user_assigned_identity_resource_id
ip = identity_id.split("/")
ManagedServiceIdentityClient(cred, ip[2], **kw).user_assigned_identities.get(ip[4], ip[8])
vault_name = enc.key_encryption_key_url.split("//")[1].split(".")[0]
key_name = enc.key_encryption_key_url.rstrip("/").split("/keys/")[1].split("/")[0]
query = f"resources | where type =~ 'microsoft.keyvault/vaults' | where name =~ '{vault_name}'"
rows = ResourceGraphClient(cred, **kw).resources(QueryRequest(query=query)).data
vp = rows[0]["id"].split("/")
kv = KeyVaultManagementClient(cred, vp[2], **kw)
vault = kv.vaults.get(vp[4], vp[8])
kv.keys.get(vp[4], vp[8], key_name)
authz = AuthorizationManagementClient(cred, vp[2], **kw)
list(authz.role_assignments.list_for_scope(vault.id, filter="assignedTo('" + identity_id + "')"))
"""


def _env(repo: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CMK_WIZARD_OFFLINE"}
    env["PYTHONPATH"] = str(repo)
    env["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="cmk-bench-state-")
    return env


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one process, from spawn to exit (run in the measured checkout: `-m` and
    `-c` put the working directory first on sys.path)."""
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False, cwd=env["PYTHONPATH"])
    wall = time.perf_counter() - began
    if done.returncode not in (0, 1, 3):
        raise SystemExit(f"{argv[2:5]} failed ({done.returncode}): {done.stderr.decode()[-600:]}")
    return wall


def _connection(emulator: Emulator, folder: Path, ports: dict[int, int] | None = None) -> Path:
    """The emulator's connection file (with its token), its ports swapped for a proxy's if given."""
    data = emulator.connection_data(with_token=True)

    def swap(url: str) -> str:
        head, _, port = url.rpartition(":")
        return f"{head}:{ports[int(port)]}" if ports else url

    data["armEndpoint"] = swap(data["armEndpoint"])
    data["vaults"] = {name: swap(url) for name, url in data["vaults"].items()}
    path = folder / f"conn-{len(list(folder.iterdir()))}.json"
    path.write_text(json.dumps(data))
    return path


def _ports(emulator: Emulator) -> list[int]:
    data = emulator.connection_data()
    return [int(u.rpartition(":")[2]) for u in [data["armEndpoint"], *data["vaults"].values()]]


def diagnose_vs_script(repo: Path, runs: int, latency_ms: int) -> dict[str, float]:
    """Whole-process diagnose against a plain one-process SDK script doing the same reads."""
    env, folder = _env(repo), Path(tempfile.mkdtemp(prefix="cmk-bench-speed-"))
    with Emulator("multi-fault", latency_ms=latency_ms) as emulator:
        conn = _connection(emulator, folder)
        wizard = [sys.executable, "-m", "wizard", "diagnose", "--emulator", str(conn), "--format", "json"]
        script = [sys.executable, "-c", SDK_SCRIPT, str(conn)]
        walls: dict[str, list[float]] = {"diagnose": [], "script": []}
        for _ in range(runs):
            walls["diagnose"].append(timed(wizard, env))
            walls["script"].append(timed(script, env))
        before = len(emulator.requests())
        timed(wizard, env)
        requests = len(emulator.requests()) - before
    d, s = statistics.median(walls["diagnose"]), statistics.median(walls["script"])
    return {"diagnose_s": d, "script_s": s, "ratio": d / s, "requests": requests}


def round_trips(repo: Path, runs: int, rtt_ms: int) -> dict[str, float]:
    """Diagnose through a proxy whose every byte pays the latency (handshakes too): the extra wall
    time over a proxy without delay, in round trips."""
    env, folder = _env(repo), Path(tempfile.mkdtemp(prefix="cmk-bench-rtt-"))
    with Emulator("multi-fault") as emulator:
        targets = _ports(emulator)
        with delayed(targets, rtt_ms) as slow, delayed(targets, 0) as fast:
            conns = {
                "slow": _connection(emulator, folder, slow.ports),
                "fast": _connection(emulator, folder, fast.ports),
            }
            walls: dict[str, list[float]] = {"slow": [], "fast": []}
            for _ in range(runs):
                for kind, conn in conns.items():
                    argv = [
                        sys.executable,
                        "-m",
                        "wizard",
                        "diagnose",
                        "--emulator",
                        str(conn),
                        "--format",
                        "json",
                    ]
                    walls[kind].append(timed(argv, env))
            connections = slow.connections / runs
    extra = statistics.median(walls["slow"]) - statistics.median(walls["fast"])
    return {
        "round_trips": extra / (rtt_ms / 1000),
        "connections": connections,
        "slow_s": statistics.median(walls["slow"]),
    }


def fix_multi_fault(repo: Path, runs: int, latency_ms: int) -> dict[str, float]:
    """`fix --all --yes` on a fresh multi-fault emulator each run: wall seconds and requests."""
    env, folder = _env(repo), Path(tempfile.mkdtemp(prefix="cmk-bench-fix-"))
    walls: list[float] = []
    counts: list[int] = []
    fixed: list[bool] = []
    for _ in range(runs):
        with Emulator("multi-fault", latency_ms=latency_ms) as emulator:
            conn = _connection(emulator, folder)
            argv = [sys.executable, "-m", "wizard", "fix", "--emulator", str(conn), "--all", "--yes"]
            argv += ["--audit-log", str(folder / f"audit-{len(walls)}.jsonl")]
            walls.append(timed(argv, env))
            counts.append(len(emulator.requests()))
            fixed.append(bool(emulator.health()["clusters"][emulator.connection["clusters"][0]]["canUseKey"]))
    return {"wall_s": statistics.median(walls), "requests": statistics.median(counts), "fixed": all(fixed)}


FAN_OUT = r"""
import json, sys, time
from wizard.cli.wiring import EmulatorBackend, Options
from wizard.emulator import Estate
from wizard.run.diagnose import diagnose
spec = json.load(sys.stdin)
estate = Estate.from_data(spec, spec["name"])
backend = EmulatorBackend(Options(retry_total=0), estate=estate, latency_ms=int(sys.argv[2]))
cluster = estate.build(0.0).clusters[0].id
gateway = backend.connect()
began = time.perf_counter()
result = diagnose(gateway, cluster)
wall = time.perf_counter() - began
print(json.dumps({"wall_s": wall, "requests": len(backend.emulator.requests()), "verdict": result.verdict}))
backend.close()
"""


def _custom_roles(n: int) -> dict[str, Any]:
    roles = [
        {
            "name": f"custom {i}",
            "dataActions": ["Microsoft.KeyVault/vaults/keys/" + ("*" if i == n - 1 else "read")],
        }
        for i in range(n)
    ]
    return {
        "name": f"custom-roles-{n}",
        "identities": [{"name": "id-cmk-demo"}],
        "customRoles": roles,
        "vaults": [{"name": "kv-cmk-demo", "keys": [{"name": "cmk", "size": 4096}]}],
        "roleAssignments": [
            {"principal": "id-cmk-demo", "role": r["name"], "scope": "vault:kv-cmk-demo"} for r in roles
        ],
        "clusters": [_cluster()],
    }


def _cluster() -> dict[str, Any]:
    return {
        "name": "cluster-fan-out",
        "identities": ["id-cmk-demo"],
        "encryption": {"identity": "id-cmk-demo", "vault": "kv-cmk-demo", "key": "cmk"},
    }


def _sweep(subscriptions: int) -> dict[str, Any]:
    groups = [
        {"name": f"rg-{i}", "subscriptionId": f"00000000-0000-4000-8000-{i:012d}"}
        for i in range(subscriptions)
    ]
    last = groups[-1]["subscriptionId"]
    vault = {
        "name": "kv-cmk-demo",
        "subscriptionId": last,
        "deleted": "-3d",
        "keys": [{"name": "cmk", "size": 4096}],
    }
    return {
        "name": "deleted-sweep",
        "identities": [{"name": "id-cmk-demo"}],
        "resourceGroups": groups,
        "vaults": [vault],
        "clusters": [_cluster()],
    }


def fan_out(repo: Path, spec: dict[str, Any], latency_ms: int) -> dict[str, Any]:
    """One diagnosis (in its own process) of an estate built to fan out."""
    Estate.from_data(spec, spec["name"])  # fail here, not in the child, on a bad estate
    out = subprocess.run(
        [sys.executable, "-c", FAN_OUT, "-", str(latency_ms)],
        input=json.dumps(spec),
        env=_env(repo),
        cwd=repo,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return figures


def main() -> int:
    """Print each goal's figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--only", action="append", help="diagnose, rtt, fix, roles, sweep")
    parser.add_argument("--source", action="store_true", help="do not compile the checkout to bytecode first")
    args = parser.parse_args()
    repo, runs = args.repo.resolve(), args.runs
    if not args.source:
        for package in ("wizard", "screens"):
            compileall.compile_dir(repo / package, quiet=1)
    goals: dict[str, Callable[[], str]] = {
        "diagnose": lambda: (
            "diagnose at 100 ms: {diagnose_s:.2f} s, script {script_s:.2f} s, ratio {ratio:.2f} "
            "(goal <= 0.65 s and <= 0.7x); {requests} requests".format(**diagnose_vs_script(repo, runs, 100))
        ),
        "rtt": lambda: (
            "round trips with handshakes at 100 ms: {round_trips:.1f} (goal <= 4); "
            "{connections:.0f} connections; {slow_s:.2f} s".format(**round_trips(repo, runs, 100))
        ),
        "fix": lambda: (
            "fix --all --yes multi-fault at 100 ms: {wall_s:.2f} s (goal <= 2.0 s); "
            "{requests:.0f} requests; emulator says fixed: {fixed}".format(
                **fix_multi_fault(repo, max(1, runs // 2), 100)
            )
        ),
        "roles": lambda: (
            "1,000 custom-role assignments at 100 ms: {wall_s:.2f} s (goal <= 1.5 s); "
            "{requests} requests; {verdict}".format(**fan_out(repo, _custom_roles(1000), 100))
        ),
        "sweep": lambda: (
            "deleted-vault sweep, 100 subscriptions at 100 ms: {wall_s:.2f} s (goal <= 1.5 s); "
            "{requests} requests; {verdict}".format(**fan_out(repo, _sweep(100), 100))
        ),
    }
    how = "from source, compiled every run" if args.source else "from bytecode"
    print(f"repo {repo} ({how}), {runs} runs, load average {os.getloadavg()[0]:.1f}")
    for name, measure in goals.items():
        if not args.only or name in args.only:
            print(f"  {measure()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
