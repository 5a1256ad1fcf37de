"""Filters, search and paging of ``GET runs`` on a real jupyter server, over both run stores."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfjupyter.server.models import RunList
from kfjupyter.store import MemoryRunStore, RunRecord, RunStore, SqliteRunStore
from tests.support.jupyter import LabServer

pytestmark = pytest.mark.integration

SEED = [
    # id, kind, name, notebook, backend, status
    ("flt-0001", "pipeline", "Churn model", "flt/churn.ipynb", "local", "succeeded"),
    ("flt-0002", "pipeline", "churn_100%", "flt/churn.ipynb", "kfp", "failed"),
    ("flt-0003", "training", "resnet-fit", None, "local", "running"),
    ("flt-0004", "pipeline", "Forecast", "flt/forecast.ipynb", "kfp", "succeeded"),
    ("flt-0005", "training", "bert_fit", None, "local", "succeeded"),
]


def seed(store: RunStore) -> None:
    for i, (run_id, kind, name, notebook, backend, status) in enumerate(SEED):
        store.create_run(
            RunRecord(
                id=run_id,
                kind=kind,  # type: ignore[arg-type]
                name=name,
                notebook=notebook,
                backend=backend,
                status=status,  # type: ignore[arg-type]
                created_at=1_700_000_000 + i,  # in the past: other tests' runs stay newest
            )
        )


@pytest.fixture(scope="module")
def seeded(lab_server: LabServer) -> LabServer:
    with SqliteRunStore(lab_server.root.parent / "kfjupyter") as store:
        seed(store)
    return lab_server


def ids(lab: LabServer, **query: str | int) -> list[str]:
    status, body = lab.request(f"/kfjupyter/api/runs?{urllib.parse.urlencode(query)}", token=lab.token)
    assert status == 200, body
    return [r.id for r in RunList.model_validate(body).runs if r.id.startswith("flt-")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "CHURN"}, ["flt-0002", "flt-0001"]),
        ({"q": "100%"}, ["flt-0002"]),
        ({"q": "_fit"}, ["flt-0005"]),
        ({"q": "forecast.ipynb"}, ["flt-0004"]),
        ({"q": "flt-0003"}, ["flt-0003"]),
        ({"backend": "kfp"}, ["flt-0004", "flt-0002"]),
        ({"kind": "training"}, ["flt-0005", "flt-0003"]),
        ({"kind": "training", "status": "succeeded"}, ["flt-0005"]),
        ({"notebook": "flt/churn.ipynb"}, ["flt-0002", "flt-0001"]),
        ({"q": "churn", "backend": "local", "status": "succeeded"}, ["flt-0001"]),
        ({"q": "no such run anywhere"}, []),
    ],
)
def test_filters_and_search_narrow_the_list_newest_first(
    seeded: LabServer, query: dict[str, str], expected: list[str]
) -> None:
    assert ids(seeded, **query) == expected


def test_a_blank_search_is_no_search(seeded: LabServer) -> None:
    # Compared with the unfiltered list, not with the seeded runs alone: runs that other tests
    # started in this server are newer and may fill the first page.
    def page(**query: str) -> list[str]:
        status, body = seeded.request(
            f"/kfjupyter/api/runs?{urllib.parse.urlencode({**query, 'limit': 200})}",
            token=seeded.token,
        )
        assert status == 200, body
        return [r.id for r in RunList.model_validate(body).runs]

    everything = page()
    assert page(q="   ") == everything
    assert everything


def test_pages_say_whether_more_follow(seeded: LabServer) -> None:
    pages = []
    for offset in (0, 2, 4):
        status, body = seeded.request(
            f"/kfjupyter/api/runs?q=flt-&limit=2&offset={offset}", token=seeded.token
        )
        assert status == 200, body
        page = RunList.model_validate(body)
        pages.append(([r.id for r in page.runs], page.has_more))
    assert pages == [
        (["flt-0005", "flt-0004"], True),
        (["flt-0003", "flt-0002"], True),
        (["flt-0001"], False),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "status=done",
        "kind=notebook",
        "backend=Not%20A%20Backend",
        "limit=0",
        "limit=201",
        "offset=-1",
        "q=" + "x" * 201,
        "notebook=",
        "colour=red",
    ],
)
def test_bad_query_is_a_400_naming_the_argument(seeded: LabServer, query: str) -> None:
    status, body = seeded.request(f"/kfjupyter/api/runs?{query}", token=seeded.token)
    assert status == 400, body
    assert body["message"].startswith("Invalid query: ")
    assert query.split("=")[0] in body["message"]


def test_anonymous_callers_cannot_search(seeded: LabServer) -> None:
    status, body = seeded.request("/kfjupyter/api/runs?q=churn")
    assert status == 403
    assert set(body) == {"message", "reason"}


@pytest.fixture(params=["sqlite", "memory"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunStore]:
    store: RunStore = SqliteRunStore(tmp_path) if request.param == "sqlite" else MemoryRunStore(tmp_path)
    with store:
        seed(store)
        yield store


def test_both_stores_filter_alike(any_store: RunStore) -> None:
    def listed(**kw: str) -> list[str]:
        return [r.id for r in any_store.list_runs(**kw)]  # type: ignore[arg-type]

    assert listed(q="Churn") == ["flt-0002", "flt-0001"]
    assert listed(q="%") == ["flt-0002"]
    assert listed(q="_") == ["flt-0005", "flt-0002"]
    assert listed(backend="kfp", q="cast") == ["flt-0004"]
    assert listed(notebook="flt/churn.ipynb", status="failed") == ["flt-0002"]
    assert listed(q="") == [r[0] for r in reversed(SEED)]
