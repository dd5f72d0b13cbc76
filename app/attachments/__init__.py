"""Files attached to quality records as evidence: upload, list, download, soft removal."""
