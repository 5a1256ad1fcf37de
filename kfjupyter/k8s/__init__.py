"""The single Kubernetes I/O seam (``client``) and pure manifest builders (``nodes``, ``volumes``)."""
