"""Estate files: one-line errors naming the field, round-trips of the built-in data, the standalone runner,
and the wire shapes against Microsoft's published example payloads."""

from __future__ import annotations

import io
import json
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.conftest import RG, VAULT, Clients, StartEmulator
from wizard.emulator import Emulator, EstateError, load_estate, scenario_names
from wizard.emulator.standalone import serve

# Microsoft's published payloads live in shared/, beside the checkout (CI has it too).
EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "azure-examples"
MISSING_EXAMPLES = not EXAMPLES.is_dir() and not os.environ.get("CI")

MINIMAL = """
name: my-estate
identities: [{name: id-a}]
vaults:
  - name: kv-mine
    keys: [{name: k1, expires: +10d}]
clusters:
  - name: c1
    identities: [id-a]
    encryption: {identity: id-a, vault: kv-mine, key: k1}
roleAssignments:
  - {principal: id-a, role: Key Vault Crypto User, scope: key:kv-mine/k1}
"""


def write(tmp_path: Path, text: str, name: str = "estate.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def one_line_error(source: str) -> str:
    with pytest.raises(EstateError) as err:
        load_estate(source)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_unknown_scenario_and_missing_file(tmp_path: Path) -> None:
    assert "unknown scenario 'nope'" in one_line_error("nope")
    assert "healthy" in one_line_error("nope")
    assert "not found" in one_line_error(str(tmp_path / "missing.yaml"))


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: x\nvaults: [{name: kv-a, keys: [{name: k, expires: soon}]}]", "vaults[0].keys[0].expires"),
        ("name: x\nvaults: [{name: kv-a, colour: red}]", "vaults[0].colour: unknown field"),
        (
            "name: x\nclusters: [{name: c, encryption: {identity: i}}]",
            "clusters[0].encryption.keyUrl: required",
        ),
        ("name: x\nvaults: [{name: kv-a, permissionModel: acl}]", "vaults[0].permissionModel"),
        (
            "name: x\nroleAssignments: [{principal: p, role: Owner, scope: vault:kv-none}]",
            "no vault named 'kv-none'",
        ),
        (
            "name: x\nroleAssignments: [{principal: p, role: Wizard, scope: subscription}]",
            "roleAssignments[0].role",
        ),
        ("name: x\noperator: {restrictions: [no-coffee]}", "operator.restrictions[0]"),
        ("vaults: []", "name: required"),
        ("name: x\nvaults: [{name: kv-a}, {name: KV-A}]", "defined twice"),
        (
            "name: x\nvaults: [{name: kv-a, deleted: -1d}]\nroleAssignments: [{principal: p, role: Owner, "
            "scope: vault:kv-a}]",
            "soft-deleted",
        ),
        (
            "name: x\nvaults: [{name: kv-a, keys: [{name: k, olderVersions: [{version: v1}]}]}]",
            "vaults[0].keys[0].olderVersions[0].version: 'v1' is not a key version",
        ),
        (
            "name: x\nvaults: [{name: kv-a, keys: [{name: k, olderVersions: [{colour: red}]}]}]",
            "vaults[0].keys[0].olderVersions[0].colour: unknown field",
        ),
        (
            "name: x\nvaults: [{name: kv-a, keys: [{name: k, version: " + "a" * 32 + ", olderVersions: "
            "[{version: " + "A" * 32 + "}]}]}]",
            "defined twice",
        ),
        ("name: x\npaging: {vaults: 0}", "paging.vaults"),
        ("name: x\npaging: {keys: 5}", "paging.keys: unknown field"),
        ("name: x\nvaults: [{name: kv-a\n", "not valid YAML"),
        ("- just\n- a list", "top level"),
    ],
)
def test_malformed_estates_fail_with_one_line_naming_the_field(
    tmp_path: Path, text: str, needle: str
) -> None:
    assert needle in one_line_error(write(tmp_path, text))


def test_malformed_json(tmp_path: Path) -> None:
    assert "not valid JSON" in one_line_error(write(tmp_path, "{oops", "estate.json"))


def test_a_custom_estate_in_yaml_and_json(tmp_path: Path) -> None:
    import yaml

    for path in (write(tmp_path, MINIMAL), write(tmp_path, json.dumps(yaml.safe_load(MINIMAL)), "e.json")):
        with Emulator(path) as emu:
            health = emu.health()["clusters"]
            assert [v["reasons"] for v in health.values()] == [[]]
            assert set(emu.connection["vaults"]) == {"kv-mine"}


def test_the_documented_full_example_loads_and_serves(tmp_path: Path) -> None:
    """docs/estate-format.md is what people copy from: its full example must load as written."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "estate-format.md").read_text("utf-8")
    example = doc.split("## Full example", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    with Emulator(write(tmp_path, example, "example.yaml")) as emu:
        assert [cid.rsplit("/", 1)[-1] for cid in emu.health()["clusters"]] == ["cluster-demo"]
        assert [lock["name"] for lock in emu.locks()] == ["freeze-kv"]


def test_built_in_scenarios_round_trip_through_the_file_loader(tmp_path: Path) -> None:
    for name in scenario_names():
        text = resources.files("wizard.emulator").joinpath("scenarios", f"{name}.yaml").read_text("utf-8")
        from_file = load_estate(write(tmp_path, text, f"{name}.yml"))
        built_in = load_estate(name)
        assert from_file.spec == built_in.spec
        assert from_file.build(0.0) == built_in.build(0.0)


PER_VERSION = """
name: per-version
identities: [{name: id-a}]
vaults:
  - name: kv-mine
    keys:
      - name: k1
        enabled: false
        olderVersions:
          - {version: 0123456789abcdef0123456789abcdef, expires: -1d}
          - {version: fedcba9876543210fedcba9876543210, expires: +30d}
clusters:
  - name: c1
    identities: [id-a]
    encryption: {identity: id-a, vault: kv-mine, key: k1, version: VERSION}
roleAssignments:
  - {principal: id-a, role: Key Vault Crypto User, scope: key:kv-mine/k1}
"""


@pytest.mark.parametrize(
    ("version", "reasons"),
    [
        ("fedcba9876543210fedcba9876543210", []),
        ("0123456789abcdef0123456789abcdef", ["key-expired"]),
    ],
)
def test_each_older_version_has_its_own_attributes(tmp_path: Path, version: str, reasons: list[str]) -> None:
    """The newest version is disabled; a cluster pinned to an older one is judged on that one."""
    with Emulator(write(tmp_path, PER_VERSION.replace("VERSION", version))) as emu:
        health = emu.health()["clusters"]
        assert [[r["code"] for r in v["reasons"]] for v in health.values()] == [reasons]
        key = emu.mutate(lambda state: state.vaults[0].keys["k1"])
    assert [v.version for v in key.versions[:2]] == [
        "0123456789abcdef0123456789abcdef",
        "fedcba9876543210fedcba9876543210",
    ]
    assert [v.enabled for v in key.versions] == [True, True, False]


def test_relative_dates_resolve_at_start(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("+10d", "-1h"))
    with Emulator(path) as emu:
        reasons = emu.health()["clusters"]
    assert [[r["code"] for r in v["reasons"]] for v in reasons.values()] == [["key-expired"]]


def test_standalone_writes_the_file_prints_one_line_and_stops(tmp_path: Path) -> None:
    out, stop = io.StringIO(), threading.Event()
    target = tmp_path / "conn.json"
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(
            serve("key-expired", connection_file=str(target), out=out, stop=stop, revalidate_seconds=0)
        )
    )
    thread.start()
    deadline = threading.Event()
    for _ in range(500):
        if target.exists():
            break
        deadline.wait(0.01)
    data = json.loads(target.read_text())
    assert data["armEndpoint"].startswith("https://127.0.0.1:")
    stop.set()
    thread.join(timeout=10)
    assert codes == [0]
    assert str(target) in out.getvalue()
    assert out.getvalue().count("\n") == 1
    assert not target.exists()


def test_standalone_bad_scenario_raises_estate_error() -> None:
    with pytest.raises(EstateError):
        serve("no-such-scenario", out=io.StringIO())


# -- shapes against Microsoft's examples ---------------------------------------------------------

QUIRKS = {"hsmPoolResourceId", "systemData", "nextLink", "tags", "facets"}
# In the spec's examples, absent from the recorded real answers (../shared/azure-recordings), which win:
# a mongoCluster's previewFeatures, an identity's assignmentRestrictions, an empty vault's
# privateEndpointConnections.
QUIRKS |= {"previewFeatures", "assignmentRestrictions", "privateEndpointConnections"}


def missing_keys(example: Any, ours: Any, path: str = "") -> list[str]:
    """Keys present in the example but absent from our response (recursively; first list items compared)."""
    if isinstance(example, dict) and isinstance(ours, dict):
        if example and all(str(k).startswith("/") for k in example):
            return missing_keys(next(iter(example.values())), next(iter(ours.values()), None), f"{path}.<id>")
        gaps = []
        for key, value in example.items():
            if key in QUIRKS:
                continue
            if key not in ours:
                gaps.append(f"{path}.{key}")
            else:
                gaps += missing_keys(value, ours[key], f"{path}.{key}")
        return gaps
    if isinstance(example, list) and isinstance(ours, list) and example and ours:
        return missing_keys(example[0], ours[0], f"{path}[0]")
    return []


def example(name: str, status: str = "200") -> Any:
    return json.loads((EXAMPLES / name).read_text())["responses"][status]["body"]


def get_json(c: Clients, host: str, path: str, method: str = "GET", body: Any = None) -> Any:
    """A raw authenticated call, to compare the exact JSON we send."""
    import ssl
    import urllib.request

    base = c.emu.arm_endpoint if host == "arm" else c.emu.connection["vaults"][host]
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {c.emu.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(
        request, context=ssl.create_default_context(cafile=c.emu.ca_path)
    ) as response:
        return json.loads(response.read())


@pytest.mark.skipif(MISSING_EXAMPLES, reason="shared example payloads not beside the checkout")
def test_responses_have_the_keys_of_the_published_examples(start: StartEmulator) -> None:
    c = start("healthy")
    sub = c.sub
    vault = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{VAULT}"
    version = get_json(c, "arm", f"{vault}/keys/cmk")["properties"]["keyUriWithVersion"].rsplit("/", 1)[-1]
    cases = [
        ("mongocluster/MongoClusters_PatchCMK.json", "arm", c.cluster_id),
        ("mongocluster/MongoClusters_Get.json", "arm", c.cluster_id),
        (
            "mongocluster/MongoClusters_List.json",
            "arm",
            f"/subscriptions/{sub}/providers/Microsoft.DocumentDB/mongoClusters",
        ),
        ("keyvault-mgmt/getVault.json", "arm", vault),
        ("keyvault-mgmt/getKey.json", "arm", f"{vault}/keys/cmk"),
        ("keyvault-mgmt/listKeyVersions.json", "arm", f"{vault}/keys/cmk/versions"),
        (
            "msi/IdentityGet.json",
            "arm",
            f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk-demo",
        ),
        (
            "authorization/RoleAssignments_ListForScope.json",
            "arm",
            f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments",
        ),
        (
            "authorization/GetRoleDefinitionById.json",
            "arm",
            f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6",
        ),
        ("keyvault-keys/GetKey-example.json", VAULT, f"/keys/cmk/{version}"),
        ("keyvault-keys/GetKeyVersions-example.json", VAULT, "/keys/cmk/versions"),
    ]
    for name, host, path in cases:
        assert missing_keys(example(name), get_json(c, host, path)) == [], name
    graph = get_json(
        c,
        "arm",
        "/providers/Microsoft.ResourceGraph/resources",
        "POST",
        {"query": f"resources | where type =~ 'microsoft.keyvault/vaults' | where name =~ '{VAULT}'"},
    )
    assert missing_keys(example("resourcegraph/ResourcesBasicQuery.json"), graph) == []
    policies = get_json(
        c,
        "arm",
        f"{vault}/accessPolicies/add",
        "PUT",
        {
            "properties": {
                "accessPolicies": [
                    {
                        "tenantId": c.emu.connection["tenantId"],
                        "objectId": "00000000-0000-0000-0000-000000000001",
                        "permissions": {"keys": ["get"]},
                    }
                ]
            }
        },
    )
    assert missing_keys(example("keyvault-mgmt/updateAccessPoliciesAdd.json"), policies) == []
    updated = get_json(c, VAULT, f"/keys/cmk/{version}", "PATCH", {"attributes": {"nbf": 631180800}})
    assert missing_keys(example("keyvault-keys/UpdateKey-example.json"), updated) == []
    identity = get_json(
        c,
        "arm",
        f"/subscriptions/{sub}/resourceGroups/{RG}/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/id-new",
        "PUT",
        {"location": "westus2"},
    )
    assert missing_keys(example("msi/IdentityCreate.json", "201"), identity) == []


@pytest.mark.skipif(MISSING_EXAMPLES, reason="shared example payloads not beside the checkout")
def test_deleted_shapes_match_the_published_examples(start: StartEmulator) -> None:
    c = start("vault-soft-deleted")
    deleted = get_json(
        c,
        "arm",
        f"/subscriptions/{c.sub}/providers/Microsoft.KeyVault/locations/westus2/deletedVaults/{VAULT}",
    )
    assert missing_keys(example("keyvault-mgmt/getDeletedVault.json"), deleted) == []
    listed = get_json(c, "arm", f"/subscriptions/{c.sub}/providers/Microsoft.KeyVault/deletedVaults")
    assert missing_keys(example("keyvault-mgmt/listDeletedVaults.json"), listed) == []
    k = start("key-soft-deleted")
    assert (
        missing_keys(
            example("keyvault-keys/GetDeletedKey-example.json"), get_json(k, VAULT, "/deletedkeys/cmk")
        )
        == []
    )
