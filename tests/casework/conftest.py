"""Casework fixtures: the independent age implementation, to open exports with."""

from tests.crypto.test_interop import node

__all__ = ["node"]
