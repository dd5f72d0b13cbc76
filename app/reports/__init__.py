"""The Reports page and the PDF downloads (the report layer itself is the top-level `reports`)."""
