"""Request plumbing shared by both zones: extensions, errors, health, sessions, security."""
