"""kfjupyter.notebook."""
