"""kfjupyter.compiler."""
