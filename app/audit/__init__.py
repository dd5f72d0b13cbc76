"""The auditor's view of the audit trail: the global log, per-record history, chain verification."""
