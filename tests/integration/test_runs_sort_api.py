"""``GET runs?sort=`` and the run detail's ``notebook_path``, on a real jupyter server."""

from __future__ import annotations

import time
import urllib.parse
from pathlib import Path

import pytest

from kfjupyter.server.models import RunDetail, RunList
from kfjupyter.store import RunRecord, SqliteRunStore
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook

pytestmark = pytest.mark.integration

T0 = 1_600_000_000.0  # in the past: other tests' runs stay newest
SEED = [
    # id, name, status, created, started, finished (offsets from T0)
    ("srt-1", "beta", "succeeded", 0, 1, 31),
    ("srt-2", "Alpha", "failed", 10, 11, 16),
    ("srt-3", "gamma", "running", 20, 21, None),
    ("srt-4", "alpha2", "cancelled", 30, None, 35),
    ("srt-5", "Delta", "succeeded", 40, 41, 141),
]


def store_of(lab: LabServer) -> SqliteRunStore:
    return SqliteRunStore(lab.root.parent / "kfjupyter")


@pytest.fixture(scope="module")
def seeded(lab_server: LabServer) -> LabServer:
    with store_of(lab_server) as store:
        for run_id, name, status, created, started, finished in SEED:
            store.create_run(
                RunRecord(
                    id=run_id,
                    kind="pipeline",
                    name=name,
                    backend="local",
                    status=status,
                    created_at=T0 + created,
                    started_at=None if started is None else T0 + started,
                    finished_at=None if finished is None else T0 + finished,
                )
            )
    return lab_server


def ids(lab: LabServer, **query: str | int) -> list[str]:
    status, body = lab.request(
        f"/kfjupyter/api/runs?{urllib.parse.urlencode({'q': 'srt-', **query})}", token=lab.token
    )
    assert status == 200, body
    return [r.id for r in RunList.model_validate(body).runs]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["srt-5", "srt-4", "srt-3", "srt-2", "srt-1"]),
        ("newest", ["srt-5", "srt-4", "srt-3", "srt-2", "srt-1"]),
        ("oldest", ["srt-1", "srt-2", "srt-3", "srt-4", "srt-5"]),
        ("name", ["srt-2", "srt-4", "srt-1", "srt-5", "srt-3"]),
        ("status", ["srt-3", "srt-2", "srt-4", "srt-5", "srt-1"]),
        ("duration", ["srt-5", "srt-1", "srt-2", "srt-4", "srt-3"]),
    ],
)
def test_sort_orders_the_list(seeded: LabServer, sort: str | None, expected: list[str]) -> None:
    assert ids(seeded, **({} if sort is None else {"sort": sort})) == expected


@pytest.mark.parametrize("sort", ["oldest", "name", "status", "duration"])
def test_pages_follow_the_sort(seeded: LabServer, sort: str) -> None:
    pages = [ids(seeded, sort=sort, limit=2, offset=offset) for offset in (0, 2, 4)]
    assert [run_id for page in pages for run_id in page] == ids(seeded, sort=sort)


@pytest.mark.parametrize("value", ["shuffle", "NEWEST", "", "newest,name"])
def test_bad_sort_is_a_400_naming_sort(seeded: LabServer, value: str) -> None:
    query = urllib.parse.urlencode({"sort": value})
    status, body = seeded.request(f"/kfjupyter/api/runs?{query}", token=seeded.token)
    assert status == 400, body
    assert body["message"].startswith("Invalid query: sort: ")
    assert "'newest'" in body["message"]


# -- notebook_path --------------------------------------------------------------------------------


def detail(lab: LabServer, run_id: str) -> RunDetail:
    status, body = lab.request(f"/kfjupyter/api/runs/{run_id}", token=lab.token)
    assert status == 200, body
    return RunDetail.model_validate(body)


def add_run(lab: LabServer, run_id: str, **fields: object) -> str:
    base: dict[str, object] = {"id": run_id, "kind": "pipeline", "name": run_id, "backend": "local"}
    with store_of(lab) as store:
        store.create_run(RunRecord.model_validate({**base, **fields}))
    return run_id


def script_entry(path: Path | str) -> dict[str, object]:
    return {"entrypoint": {"kind": "script", "path": str(path), "args": []}}


def test_notebook_path_of_a_notebook_inside_the_root(lab_server: LabServer) -> None:
    notebook = write_notebook(lab_server.root / "sort api" / "in root.ipynb", [cell("x = 1")])
    run_id = add_run(lab_server, "nbp-inside", notebook=str(notebook))
    assert detail(lab_server, run_id).notebook_path == "sort api/in root.ipynb"


def test_notebook_path_of_a_real_run(lab_server: LabServer) -> None:
    write_notebook(lab_server.root / "sortapi" / "real.ipynb", [cell("print('hi')", "step:hi")])
    status, body = lab_server.request(
        "/kfjupyter/api/notebooks/run",
        token=lab_server.token,
        method="POST",
        body={"path": "sortapi/real.ipynb", "no_cache": True},
    )
    assert status == 202, body
    assert detail(lab_server, body["run_id"]).notebook_path == "sortapi/real.ipynb"
    deadline = time.monotonic() + 120  # let it end: leave no run going for the tests after this one
    while detail(lab_server, body["run_id"]).run.status in ("pending", "running"):
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.3)


@pytest.mark.parametrize("where", ["outside", "missing", "link-out", "relative", "none"])
def test_notebook_path_is_null_when_it_cannot_be_opened(
    lab_server: LabServer, tmp_path: Path, where: str
) -> None:
    outside = write_notebook(tmp_path / "outside.ipynb", [cell("x = 1")])
    link = lab_server.root / "sortapi" / f"link-{tmp_path.name}.ipynb"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside)
    recorded = {
        "outside": str(outside),
        "missing": str(lab_server.root / "sortapi" / "gone.ipynb"),
        "link-out": str(link),
        "relative": "sortapi/real.ipynb",
        "none": None,
    }[where]
    run_id = add_run(lab_server, f"nbp-{where}", notebook=recorded)
    assert detail(lab_server, run_id).notebook_path is None


def test_notebook_path_of_a_training_script(lab_server: LabServer, tmp_path: Path) -> None:
    script = lab_server.root / "sortapi" / "fit.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("print('fit')\n")
    (tmp_path / "fit.py").write_text("print('fit')\n")
    inside = add_run(lab_server, "nbp-script", kind="training", parameters=script_entry(script))
    outside = add_run(
        lab_server, "nbp-script-out", kind="training", parameters=script_entry(tmp_path / "fit.py")
    )
    function = add_run(
        lab_server, "nbp-function", kind="training", parameters={"entrypoint": {"kind": "function"}}
    )
    assert detail(lab_server, inside).notebook_path == "sortapi/fit.py"
    assert detail(lab_server, outside).notebook_path is None
    assert detail(lab_server, function).notebook_path is None
