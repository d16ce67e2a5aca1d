"""The decision tree and the catalogue are data: keep them complete and consistent."""

from __future__ import annotations

import re

from wizard.domain.catalog import load_catalog, render
from wizard.engine.checks import CHECKS
from wizard.engine.tree import load_tree

DESIGN_FINDINGS = {
    "CLUSTER_NOT_FOUND",
    "CLUSTER_NOT_CMK",
    "CLUSTER_PROVISIONING_FAILED",
    "CLUSTER_LAST_OPERATION_FAILED",
    "CLUSTER_INACCESSIBLE",
    "CLUSTER_KEY_URL_VERSIONED",
    "IDENTITY_NOT_ATTACHED",
    "IDENTITY_DELETED",
    "IDENTITY_RECREATED",
    "VAULT_SOFT_DELETED",
    "VAULT_PURGED",
    "VAULT_FIREWALL_BLOCKS_SERVICE",
    "VAULT_PURGE_PROTECTION_OFF",
    "VAULT_TENANT_MISMATCH",
    "VAULT_REGION_MISMATCH",
    "RBAC_ROLE_MISSING",
    "ACCESS_POLICY_MISSING",
    "KEY_SOFT_DELETED",
    "KEY_PURGED",
    "KEY_DISABLED",
    "KEY_EXPIRED",
    "KEY_NOT_YET_ACTIVE",
    "KEY_EXPIRING_SOON",
    "KEY_TYPE_UNSUPPORTED",
}
DESIGN_REMEDIATIONS = {
    "extend-key-expiry",
    "enable-key",
    "clear-key-not-before",
    "recover-key",
    "recover-vault",
    "recreate-resource-group",
    "grant-crypto-role",
    "add-access-policy",
    "allow-trusted-services",
    "allow-operator-ip",
    "remove-operator-ip",
    "create-identity",
    "attach-identity-and-key",
    "enable-purge-protection",
    "delete-failed-cluster",
    "wait-for-ready",
}
DESIGN_CHECKS = {
    "cluster.load",
    "cluster.state",
    "cluster.health",
    "cluster.key_url",
    "identity.attached",
    "identity.exists",
    "identity.principal",
    "vault.exists",
    "vault.deleted",
    "vault.network",
    "vault.protection",
    "vault.placement",
    "access.rbac",
    "access.policy",
    "key.exists",
    "key.enabled",
    "key.dates",
    "key.type",
    "key.newest",
}


def test_catalogue_holds_exactly_the_design_codes() -> None:
    catalog = load_catalog()
    assert set(catalog.findings) == DESIGN_FINDINGS
    assert set(catalog.remediations) == DESIGN_REMEDIATIONS


def test_every_finding_points_at_known_remediations_and_passages() -> None:
    catalog = load_catalog()
    for code, entry in catalog.findings.items():
        assert set(entry.remediations) <= set(catalog.remediations), code
        assert entry.passage in catalog.passages, code
        assert entry.summary, code
        assert entry.explanation, code


def test_tree_has_exactly_the_design_checks_each_with_logic() -> None:
    tree = load_tree()
    ids = [spec.id for spec in tree]
    assert set(ids) == DESIGN_CHECKS == set(CHECKS)
    assert len(ids) == len(set(ids))
    catalog = load_catalog()
    for spec in tree:
        assert set(spec.after) <= set(ids), spec.id
        assert spec.passage in catalog.passages, spec.id


def test_remediations_verify_real_checks_and_never_purge() -> None:
    catalog = load_catalog()
    for rid, entry in catalog.remediations.items():
        assert set(entry.verifies) <= DESIGN_CHECKS, rid
        assert "purge" not in (entry.rest + entry.az).lower().replace("purge-protection", ""), rid
        assert "replace" not in entry.rest.lower(), rid
        assert entry.confirm in ("none", "yes", "typed"), rid
        if not entry.reversible and rid != "delete-failed-cluster":
            assert entry.confirm == "typed", rid
    assert catalog.remediations["delete-failed-cluster"].confirm == "typed"


def test_render_leaves_missing_values_visible() -> None:
    assert render("key {key_name} in {vault_name}", {"key_name": "cmk"}) == "key cmk in {vault_name}"
    assert render("{a}", {"a": None}) == "-"


def test_placeholders_are_snake_case_names() -> None:
    catalog = load_catalog()
    texts = [f.summary for f in catalog.findings.values()]
    texts += [r.change + r.rest + r.az for r in catalog.remediations.values()]
    for text in texts:
        for name in re.findall(r"{([^}]*)}", text):
            assert re.fullmatch(r"[a-z_]+", name), (name, text)
