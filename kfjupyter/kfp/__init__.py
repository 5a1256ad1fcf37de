"""Compile a notebook's typed pipeline IR to Kubeflow Pipelines v2, through the kfp SDK's own objects.

:mod:`kfjupyter.kfp.components` builds one container component per step, :mod:`kfjupyter.kfp.settings`
applies per-step settings to its task, :mod:`kfjupyter.kfp.pipeline` wires them into a pipeline and
calls ``kfp.compiler``, and :mod:`kfjupyter.kfp.entry` is the program those containers run.
"""
