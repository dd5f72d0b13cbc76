"""Internal audits (ISO 9001 clause 9.2): programmes, audits, checklists and findings."""
