"""Corrective and preventive actions, effectiveness checks, training (employee recovery)."""
