"""Facts: what Azure answered, typed once, as the checks, the plan and the planner read it."""

from __future__ import annotations

from tests.engine.fake_reader import (
    CLUSTER_ID,
    IDENTITY_ID,
    PRINCIPAL,
    VAULT_ID,
    FakeEstate,
    FakeReader,
    policy,
)
from wizard.domain.errors import Forbidden
from wizard.domain.models import DeletedVaultFacts
from wizard.engine.facts import Facts
from wizard.engine.reads import Outcome
from wizard.engine.tree import Read, ReadKind
from wizard.run.diagnose import Diagnosis, diagnose

HEALTHY = FakeEstate()


def run(estate: FakeEstate) -> Diagnosis:
    return diagnose(FakeReader(estate), CLUSTER_ID)


def test_a_healthy_diagnosis_types_every_answer() -> None:
    facts = run(HEALTHY).facts
    assert facts.cluster == HEALTHY.cluster
    assert facts.identity == HEALTHY.identity
    assert facts.vault == HEALTHY.vault
    assert facts.key == HEALTHY.key
    assert facts.key_url is not None
    assert facts.key_url.key_name == "cmk"
    assert facts.vault_ref is not None
    assert facts.vault_ref.id == VAULT_ID
    assert facts.vault_id == VAULT_ID
    assert facts.deleted_vault is None
    assert facts.deleted_key is None
    assert facts.role_assignments[PRINCIPAL] == tuple(HEALTHY.assignments)
    assert facts.assignments_covering_key(PRINCIPAL) == HEALTHY.assignments
    assert facts.access_principal == facts.remembered_principal == PRINCIPAL
    assert not facts.identity_deleted
    assert not facts.identity_unreadable
    assert not facts.identity_recreated


def test_the_diagnosis_gives_its_facts_without_changing_its_json() -> None:
    result = run(HEALTHY)
    assert result.facts is result.facts
    assert result.cluster == result.facts.cluster
    assert "facts" not in result.to_json()


def test_nothing_answered_yet_is_an_empty_estate() -> None:
    facts = Facts.from_known(CLUSTER_ID, {})
    assert facts.cluster is None
    assert facts.cluster_read == Read(ReadKind.CLUSTER, (CLUSTER_ID,))
    assert facts.identity_read is None
    assert facts.vault_lookup_read is None
    assert facts.live_vault_searches == []
    assert facts.vault_id == ""
    assert facts.principal_key_permissions(PRINCIPAL) == frozenset()
    assert facts.template_values() == {"cluster_id": CLUSTER_ID}


def test_key_permissions_are_the_principals_across_its_policies() -> None:
    assert HEALTHY.vault is not None
    vault = HEALTHY.vault.__class__(
        **{
            **HEALTHY.vault.__dict__,
            "rbac_authorization": False,
            "access_policies": (
                policy(PRINCIPAL, "get"),
                policy(PRINCIPAL.upper(), "wrapKey"),
                policy("someone-else", "unwrapKey"),
            ),
        }
    )
    facts = run(HEALTHY.replace(vault=vault)).facts
    assert facts.principal_key_permissions(PRINCIPAL) == {"get", "wrapkey"}
    assert facts.principal_key_permissions("nobody") == frozenset()


def test_a_deleted_vault_is_found_and_named_by_its_record() -> None:
    deleted = DeletedVaultFacts(
        name="kv1",
        vault_id=VAULT_ID,
        location="westus2",
        deletion_date=None,
        scheduled_purge_date=None,
        purge_protection=True,
    )
    facts = run(HEALTHY.replace(vault=None, deleted_vault=deleted)).facts
    assert facts.vault is None
    assert facts.vault_ref is None
    assert facts.deleted_vault == deleted
    assert facts.vault_id == VAULT_ID


def test_a_forbidden_read_names_the_permission_it_lacked() -> None:
    denied = Forbidden("AuthorizationFailed", needs="Key Vault Reader")
    result = run(HEALTHY.replace(errors={"get_vault": denied}))
    facts = result.facts
    assert facts.vault is None
    assert facts.forbidden(facts.vault_read) == "Key Vault Reader"
    assert facts.forbidden(facts.identity_read) == ""
    assert facts.forbidden(None) == ""
    assert facts.vault_id == VAULT_ID


def test_a_deleted_identity_leaves_no_principal_whose_access_matters() -> None:
    facts = run(HEALTHY.replace(identity=None)).facts
    assert facts.identity_deleted
    assert facts.access_principal is None
    assert facts.remembered_principal == PRINCIPAL


def test_an_unreadable_identity_falls_back_on_the_remembered_principal() -> None:
    identity_read = Read(ReadKind.IDENTITY, (IDENTITY_ID,))
    known = {
        Read(ReadKind.CLUSTER, (CLUSTER_ID,)): Outcome(HEALTHY.cluster),
        identity_read: Outcome(error=Forbidden("no", needs="Reader")),
    }
    facts = Facts.from_known(CLUSTER_ID, known)
    assert facts.identity_unreadable
    assert facts.access_principal == PRINCIPAL
    assert facts.value(identity_read) is None
    assert facts.outcome(identity_read) == known[identity_read]
