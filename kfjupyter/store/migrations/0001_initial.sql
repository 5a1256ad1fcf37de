-- 0001: runs, steps, events, metrics, artifacts and the step cache.
-- JSON columns are TEXT. Times are Unix seconds (REAL). Child rows go with their run (ON DELETE CASCADE).

CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    notebook    TEXT,
    backend     TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  REAL NOT NULL,
    started_at  REAL,
    finished_at REAL,
    parameters  TEXT NOT NULL DEFAULT '{}',
    error       TEXT,
    owner_pid   INTEGER,
    owner_host  TEXT,
    external_id TEXT,
    labels      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX runs_by_created ON runs (created_at DESC, id DESC);
CREATE INDEX runs_by_status ON runs (status);

CREATE TABLE steps (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    cached      INTEGER NOT NULL DEFAULT 0,
    attempt     INTEGER NOT NULL DEFAULT 0,
    started_at  REAL,
    finished_at REAL,
    error       TEXT,
    cache_key   TEXT,
    exit_code   INTEGER,
    signal      INTEGER,
    upstream    TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, name)
);

CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step    TEXT,
    ts      REAL NOT NULL,
    type    TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_run ON events (run_id, id);

CREATE TABLE metrics (
    id     INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step   TEXT,
    name   TEXT NOT NULL,
    value  REAL,  -- NULL stands for NaN (SQLite cannot store NaN)
    idx    INTEGER NOT NULL,
    ts     REAL NOT NULL
);
CREATE INDEX metrics_by_run ON metrics (run_id, name, idx, id);

CREATE TABLE artifacts (
    run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step       TEXT NOT NULL,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    path       TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    preview    TEXT NOT NULL DEFAULT '{}',
    serializer TEXT,
    created_at REAL NOT NULL,
    PRIMARY KEY (run_id, step, name)
);

CREATE TABLE cache (
    cache_key  TEXT PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step       TEXT NOT NULL,
    created_at REAL NOT NULL,
    outputs    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX cache_by_run ON cache (run_id);
