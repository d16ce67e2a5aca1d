"""The drivers: run a diagnosis, a fix session, the incident report and the audit log over the ports."""
