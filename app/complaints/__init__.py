"""Complaints and customer recovery."""
