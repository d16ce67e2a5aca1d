"""The identity that replaces a cluster's lost one: named once per incident, and reused across runs.

The name (`<old>-<stamp>`) is chosen by the first plan that creates it and kept for the session;
the create-identity intent (written before the PUT) records it with the identity it `replaces`.
A later run reads that intent back: the same name again, and when the identity is there (the
earlier run was killed after the PUT), it is reused rather than a second one made."""

from __future__ import annotations

from pathlib import Path

from wizard.domain.actions import CreateIdentity
from wizard.domain.errors import WizardError
from wizard.domain.models import IdentityFacts
from wizard.domain.ports import AzureReader
from wizard.engine.steps import Plan, Replacement
from wizard.run.audit import whole_records


def earlier_replacement(audit_path: Path, cluster_id: str) -> Replacement | None:
    """The newest replacement identity an earlier run named for this cluster (its intent), if any."""
    found = None
    for record in whole_records(audit_path):
        action = record.get("action")
        if (
            record.get("phase") == "before"
            and str(record.get("cluster", "")).lower() == cluster_id.lower()
            and isinstance(action, dict)
            and action.get("remediation") == CreateIdentity.remediation
            and action.get("replaces")
        ):
            found = Replacement(str(action["replaces"]), str(record.get("target")), str(record.get("id")))
    return found


def planned_replacement(plan: Plan) -> Replacement | None:
    """The replacement a plan names (its create-identity step), to keep for the rest of the incident."""
    for step in plan.steps:
        if isinstance(step.action, CreateIdentity) and step.action.replaces:
            return Replacement(step.action.replaces, step.action.identity_id)
    return None


def reusable_identity(reader: AzureReader, chosen: Replacement) -> IdentityFacts | None:
    """The identity an earlier run created under the chosen name, when it is there (None: create it)."""
    try:
        return reader.get_identity(chosen.identity_id)
    except WizardError:  # not there (or unreadable): the plan creates it, under the same name
        return None


def reuse_note(identity: IdentityFacts, chosen: Replacement) -> str:
    """What the plan says of an identity it reuses."""
    return (
        f"reusing identity {identity.name}: an earlier run created it for this incident (audit record "
        f"{chosen.audit_id}); no second identity is made"
    )
