"""Metric charts as data: series from metric records, and one Vega-Lite spec for every front door.

:mod:`kfjupyter.charts.series` groups a metric's records into series (one per pipeline step or
training rank, or one per run when comparing runs); :mod:`kfjupyter.charts.vegalite` turns them
into a Vega-Lite v5 spec. The kernel widget displays that spec as a mime bundle and the Lab
extension receives the same spec from the REST API, so both draw the same chart through
JupyterLab's own Vega renderer. Pure: records in, JSON-ready dicts out.
"""

from kfjupyter.charts.series import Chart, Series, chart_data, compare_data, metric_names, run_labels, thin
from kfjupyter.charts.vegalite import VEGALITE_MIME, chart_spec, mime_bundle

__all__ = [
    "VEGALITE_MIME",
    "Chart",
    "Series",
    "chart_data",
    "chart_spec",
    "compare_data",
    "metric_names",
    "mime_bundle",
    "run_labels",
    "thin",
]
