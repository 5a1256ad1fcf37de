"""The run service: every operation a user can do to a run, behind one backend interface.

Front doors (REST handlers, the ``kfjupyter`` command, the ``%kf`` magics) build a
:class:`~kfjupyter.runs.backend.RunContext` and call :mod:`kfjupyter.runs.operations`; the
:mod:`~kfjupyter.runs.registry` picks the :class:`~kfjupyter.runs.backend.RunBackend` of each run
by its kind and engine: local pipelines (:mod:`~kfjupyter.runs.pipelines`, started detached by
:mod:`~kfjupyter.runs.launch`, cancelled by :mod:`~kfjupyter.runs.local_cancel`), Kubeflow
Pipelines runs (:mod:`~kfjupyter.runs.kfp_submit`), and training jobs on this machine or a cluster
(:mod:`~kfjupyter.runs.training`). :mod:`~kfjupyter.runs.compare` holds the rules of comparing runs.
"""
