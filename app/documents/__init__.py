"""Document control (ISO 9001 7.5): controlled documents, their revisions, approval by electronic
signature, the revision in force on a date, periodic review and read-and-understood training."""
