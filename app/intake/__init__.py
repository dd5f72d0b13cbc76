"""Complaint import from CSV and XLSX files: upload, column mapping, preview, chunked import."""
