"""Management review (ISO 9001 clause 9.3): meetings, frozen inputs, decisions and actions."""
