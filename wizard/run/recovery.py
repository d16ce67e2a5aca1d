"""What a fix session has seen of the outage, which decides what will prove the recovery.

The wait (wait.py) takes Resource Health's Available as proof only if it changed after the last
write that fixed a cause, when Resource Health showed the outage at all; and clusterStatus moving to
Ready only if it was seen Inaccessible. This module keeps those observations for one session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wizard.domain.actions import AllowOperatorIp, RemoveOperatorIp
from wizard.domain.catalog import load_catalog
from wizard.domain.models import Severity
from wizard.domain.results import OutcomeStatus
from wizard.engine.steps import Step
from wizard.run.diagnose import Diagnosis

WAIT_ADVICE = {
    OutcomeStatus.UNCONFIRMED: "connect to the cluster (for example with mongosh) to confirm it serves "
    "again; or get Microsoft.ResourceHealth/availabilityStatuses/read (Reader on the cluster) and run "
    "`cmk-wizard watch`, which then confirms it from Resource Health",
    OutcomeStatus.CLUSTER_STOPPED: "start the cluster, then run `cmk-wizard watch` to see it "
    "revalidate its key",
}
"""What to do when a wait ends without proof of recovery."""


def fixes_a_cause(step: Step) -> bool:
    """A write for a critical finding: once it lands, the service must revalidate the key. The
    operator's temporary IP rule is planned under that finding but gives the cluster nothing."""
    if isinstance(step.action, AllowOperatorIp | RemoveOperatorIp):
        return False
    entry = load_catalog().findings.get(step.finding)
    return entry is not None and entry.severity == Severity.CRITICAL


@dataclass
class OutageSeen:
    """What the session's diagnoses and writes showed: the outage in Resource Health or clusterStatus,
    and when the last cause was fixed."""

    health_down: bool = False
    inaccessible: bool = False
    last_fix_at: datetime | None = None
    health_state: str | None = None
    """Resource Health's state in the latest diagnosis (None when it could not be read)."""

    def note(self, diagnosis: Diagnosis) -> None:
        """Remember whether this diagnosis showed the outage."""
        cluster, health = diagnosis.cluster, diagnosis.facts.resource_health
        if cluster is not None and cluster.cluster_status.lower() == "inaccessible":
            self.inaccessible = True
        if health is not None and health.down:
            self.health_down = True
        self.health_state = health.availability_state if health else None

    def fixed(self, sent_at: datetime) -> None:
        """A write for a cause was sent at `sent_at` and taken."""
        self.last_fix_at = sent_at

    def wait_evidence(self) -> dict[str, Any]:
        """The wait's keyword arguments: what must change, and whether ARM showed the outage."""
        return {
            "since": self.last_fix_at if self.health_down else None,
            "was_inaccessible": self.inaccessible,
        }
