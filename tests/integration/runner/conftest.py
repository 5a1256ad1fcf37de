"""Fixtures: a private kfjupyter home and run store."""

from tests.support.stores import home, store

__all__ = ["home", "store"]
