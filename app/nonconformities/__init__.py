"""Nonconformities, containment and risk."""
