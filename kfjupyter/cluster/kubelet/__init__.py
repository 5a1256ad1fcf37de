"""The process kubelet: plays the kubelet for the simulated nodes, running containers as processes.

``agent`` registers the nodes and watches pods; ``pod_worker`` drives one pod's lifecycle;
``runtime`` starts a container's process (env, volumes, logs); ``prober`` holds the probe rules
and ``probes`` runs one probe; ``status`` is the pure status computation; ``logs`` serves the
kubelet containerLogs endpoint; ``provisioner`` binds PVCs.
"""
