"""The ``sort`` orders of ``list_runs``, run against every implementation (see the ``store`` fixture)."""

from __future__ import annotations

import itertools
import random

import pytest

from kfjupyter.errors import InvalidInput
from kfjupyter.store import RunStore, SqliteRunStore
from kfjupyter.store.base import RunSort, sort_runs

from .helpers import make_run

SORTS: list[RunSort] = ["newest", "oldest", "name", "status", "duration"]
T0 = 1_700_000_000.0


def seed(store: RunStore) -> None:
    """Five runs whose every sort key differs from their creation order."""
    rows = [
        # id, name, status, created offset, started offset, finished offset
        ("r1", "beta", "succeeded", 0, 1, 31),  # 30 s
        ("r2", "Alpha", "failed", 10, 11, 16),  # 5 s
        ("r3", "gamma", "running", 20, 21, None),  # not ended: no duration
        ("r4", "alpha2", "cancelled", 30, None, 35),  # cancelled before it started
        ("r5", "Delta", "succeeded", 40, 41, 141),  # 100 s
    ]
    for run_id, name, status, created, started, finished in rows:
        store.create_run(
            make_run(
                id=run_id,
                name=name,
                status=status,
                created_at=T0 + created,
                started_at=None if started is None else T0 + started,
                finished_at=None if finished is None else T0 + finished,
            )
        )


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["r5", "r4", "r3", "r2", "r1"]),
        ("oldest", ["r1", "r2", "r3", "r4", "r5"]),
        ("name", ["r2", "r4", "r1", "r5", "r3"]),  # Alpha, alpha2, beta, Delta, gamma: case ignored
        ("status", ["r3", "r2", "r4", "r5", "r1"]),  # running, failed, cancelled, succeeded (newest first)
        ("duration", ["r5", "r1", "r2", "r4", "r3"]),  # 100 s, 30 s, 5 s, then the runs without one
    ],
)
def test_each_sort_order(store: RunStore, sort: RunSort, expected: list[str]) -> None:
    seed(store)
    assert [r.id for r in store.list_runs(sort=sort)] == expected


def test_default_order_is_newest(store: RunStore) -> None:
    seed(store)
    assert store.list_runs() == store.list_runs(sort="newest")


def test_sort_applies_after_filters(store: RunStore) -> None:
    seed(store)
    assert [r.id for r in store.list_runs(status="succeeded", sort="duration")] == ["r5", "r1"]
    assert [r.id for r in store.list_runs(q="alpha", sort="oldest")] == ["r2", "r4"]


def test_unknown_sort_is_invalid_input(store: RunStore) -> None:
    with pytest.raises(InvalidInput, match="sort must be one of newest, oldest, name, status, duration"):
        store.list_runs(sort="shuffle")  # type: ignore[arg-type]


@pytest.mark.parametrize("sort", SORTS)
def test_pages_with_equal_keys_never_repeat_or_skip(store: RunStore, sort: RunSort) -> None:
    # Many runs share each key (name, status, duration, even creation time): only the id tells them apart.
    statuses = ["succeeded", "failed", "running"]
    for i in range(23):
        created = T0 + i // 6
        done = statuses[i % 3] != "running"
        store.create_run(
            make_run(
                id=f"eq-{(i * 7) % 23:02d}",  # ids not in creation order
                name=["same", "SAME", "other"][i % 3],
                status=statuses[i % 3],
                created_at=created,
                started_at=created,
                finished_at=created + 10 * (i % 2) if done else None,
            )
        )
    whole = [r.id for r in store.list_runs(sort=sort, limit=100)]
    for size in (1, 4, 5):
        paged = list(
            itertools.chain.from_iterable(
                [r.id for r in store.list_runs(sort=sort, limit=size, offset=offset)]
                for offset in range(0, 25, size)
            )
        )
        assert paged == whole
    assert sorted(whole) == sorted(f"eq-{i:02d}" for i in range(23))


def test_sort_runs_is_the_reference_for_sqlite(sqlite_store: SqliteRunStore) -> None:
    """Random records: the SQL order is exactly what ``sort_runs`` says (ties included)."""
    rng = random.Random(7)
    names = ["a", "A", "b", "B", "ä", "Z", "a b", "_x", "10", "9"]
    runs = []
    for i in range(60):
        created = T0 + rng.choice([0, 1, 2])
        started = rng.choice([None, created, created + 0.5])
        finished = rng.choice([None, created + rng.choice([0.0, 1.0, 2.5]), created - 1.0])
        runs.append(
            make_run(
                id=f"rnd-{rng.randrange(10**6):06d}-{i}",
                name=rng.choice(names),
                status=rng.choice(["pending", "running", "succeeded", "failed", "cancelled", "interrupted"]),
                created_at=created,
                started_at=started,
                finished_at=finished,
            )
        )
    for run in runs:
        sqlite_store.create_run(run)
    for sort in SORTS:
        expected = list(runs)
        sort_runs(expected, sort)
        assert [r.id for r in sqlite_store.list_runs(sort=sort, limit=100)] == [r.id for r in expected], sort


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_time_orders_read_the_creation_index(sqlite_store: SqliteRunStore, sort: RunSort) -> None:
    from kfjupyter.store.sqlite import _LIST_RUNS_BY

    with sqlite_store._db.read() as conn:
        plan = conn.execute(
            f"EXPLAIN QUERY PLAN {_LIST_RUNS_BY[sort]}", (None, None, 50, 0, None, None, None)
        ).fetchall()
    details = " | ".join(row[-1] for row in plan)
    assert "USING INDEX runs_by_created" in details
    assert "TEMP B-TREE" not in details


@pytest.mark.parametrize("q", ["\x00", "alpha\x00", "\x00beta"])
def test_a_search_with_a_nul_is_refused_not_widened(store: RunStore, q: str) -> None:
    # SQLite's LIKE stops reading its pattern at a NUL, so '%\0%' would match every run.
    seed(store)
    with pytest.raises(InvalidInput, match="q: the search text contains a NUL character"):
        store.list_runs(q=q)
