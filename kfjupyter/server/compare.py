"""``GET /kfjupyter/api/runs/compare?ids=a,b,c``: runs side by side in one round trip.

One request answers what the compare view needs for up to 50 runs: each run's summary, parameters,
last metric values and (thinned) metric history, plus which parameters differ and which run is
best per metric. The rules live in :mod:`kfjupyter.runs.compare`, shared with ``kfjupyter runs
compare``.
"""

from __future__ import annotations

from kfjupyter.runs.operations import compare
from kfjupyter.server import models
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.requests import opened_store, parse_query
from kfjupyter.server.views import comparison


class CompareHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/runs/compare?ids=a,b,c``: 2 to 50 runs side by side."""

    @api("read")
    def get(self) -> None:
        """Answer the comparison; 400 for a bad id list, 404 for an unknown run."""
        query = parse_query(models.CompareQuery, self.request.query_arguments)
        with opened_store() as store:
            found = compare(self.context_for(store), query.run_ids)
        self.reply(comparison(found))


def compare_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The route of this module; register it before ``runs/{id}``, which would match it too."""
    return [(rf"{api_prefix}/runs/compare/?", CompareHandler)]
