"""Version of the kfjupyter distribution."""

__version__ = "0.1.0"
