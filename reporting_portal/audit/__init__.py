"""The access log: audit events written through one function."""
