"""Local Kubernetes for tests and demos: build, control plane and the process kubelet."""
