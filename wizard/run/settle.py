"""Before a fix's first write: hold the cluster's lock, check the audit log's tail, and settle the
writes an earlier run left with no known outcome by reading their targets (a `resolved` record).

A settled temporary change (allow-operator-ip) keeps its `undo` in the resolved record when it may
be there, so the pending undos, read after this, hold exactly the rules still to take back."""

from __future__ import annotations

from wizard.domain.action_records import action_from_record
from wizard.domain.ports import AzureWriter
from wizard.run.audit import FOUND_THERE, AuditLog, unsettled_intents
from wizard.run.lock import ClusterLock


def settle(audit: AuditLog, writer: AzureWriter, cluster_id: str) -> list[str]:
    """Read the target of every unsettled write on this cluster and record what is there; one line each."""
    try:
        pending = unsettled_intents(audit.path, cluster_id)
    except ValueError as exc:
        return [f"audit log: earlier writes not checked: {exc}"]
    lines = []
    for intent, was in pending:
        rid, remediation, target = str(intent["id"]), str(intent["remediation"]), str(intent["target"])
        name = target.rstrip("/").rsplit("/", 1)[-1]
        try:
            action = action_from_record(intent["action"])
        except ValueError as exc:
            lines.append(f"audit: {remediation} on {name} (record {rid}, {was}) cannot be read again: {exc}")
            continue
        found = writer.probe(action)
        audit.resolved(
            rid,
            remediation=remediation,
            target=target,
            was=was,
            found=found.found,
            message=found.message,
            state=found.state,
            undo=found.undo if found.found in FOUND_THERE else None,  # the next step takes it back
            undoes=found.undoes,
        )
        lines.append(
            f"audit: {remediation} on {name} (record {rid}) was {was}; read again: {found.found} "
            f"({found.message})"
        )
    return lines


def begin_writes(audit: AuditLog, lock: ClusterLock, writer: AzureWriter, cluster_id: str) -> list[str]:
    """Take the lock (ClusterBusy names its holder), set a torn log tail aside, settle earlier writes."""
    notices = []
    taken_over = lock.acquire()
    if taken_over:
        notices.append(taken_over)
    try:
        notices += audit.open()
        notices += settle(audit, writer, cluster_id)
    except BaseException:
        lock.release()
        raise
    return notices
