"""Users, sign-in, roles."""
