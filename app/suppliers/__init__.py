"""Suppliers: the approved-supplier register with a scorecard computed from the records, failures
attributed to a supplier, and supplier corrective action requests (SCARs) answered by the
supplier on a tokenised page that needs no account."""
