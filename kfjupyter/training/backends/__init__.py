"""Training backends: where a job's worker processes run (this machine, or a Kubernetes cluster).

Each backend implements :class:`~kfjupyter.training.backends.base.TrainingBackend` and returns the
same :class:`~kfjupyter.training.job.TrainJob` model.
"""
