"""kfjupyter.runner."""
