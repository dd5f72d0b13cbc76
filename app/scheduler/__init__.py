"""Scheduled reviews: jobs, their runs (claimed once per slot), and the recurring-failure review."""
