"""The identity that replaces a cluster's lost one: named once per incident, and reused across runs.

The name (`<old>-<stamp>`) is chosen by the first plan that creates it and kept for the session;
the create-identity intent (written before the PUT) records it with the identity it `replaces`.
A later run reads that intent back: the same name again, and when the identity is there (the
earlier run was killed after the PUT), it is reused rather than a second one made."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from wizard.domain.actions import CreateIdentity
from wizard.domain.errors import WizardError
from wizard.domain.ports import AzureReader
from wizard.engine.steps import Carry, Plan, Replacement
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


def kept_replacement(carry: Carry, plan: Plan) -> Carry:
    """The carry with the replacement this plan names (its create-identity step) unless one for
    the same lost identity is kept already: the name then holds for the rest of the incident."""
    for step in plan.steps:
        action = step.action
        if isinstance(action, CreateIdentity) and action.replaces:
            if carry.replacement is not None and carry.replacement.stands_for(action.replaces):
                return carry
            return replace(carry, replacement=Replacement(action.replaces, action.identity_id))
    return carry


def reuse_earlier(reader: AzureReader, carry: Carry, lost_identity: str | None) -> tuple[Carry, str]:
    """The carry with the identity an earlier run created for this incident (when it is there and
    still stands for the cluster's lost one), and the plan's note saying so ("": nothing reused)."""
    chosen = carry.replacement
    if chosen is None or not chosen.audit_id or carry.new_identity is not None:
        return carry, ""
    if not chosen.stands_for(lost_identity):
        return carry, ""
    try:
        identity = reader.get_identity(chosen.identity_id)
    except WizardError:  # not there (or unreadable): the plan creates it, under the same name
        return carry, ""
    note = (
        f"reusing identity {identity.name}: an earlier run created it for this incident (audit record "
        f"{chosen.audit_id}); no second identity is made"
    )
    return replace(carry, new_identity=identity), note
