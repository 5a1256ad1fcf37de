"""kfjupyter.cli."""
