"""Database backups: create, verify (restore into a scratch database, check it), restore."""
