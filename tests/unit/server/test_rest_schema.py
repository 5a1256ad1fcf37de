"""The committed REST schema matches the pydantic models."""

from __future__ import annotations

from kfjupyter.server import schema


def test_committed_schema_matches_the_code() -> None:
    assert schema.SCHEMA_FILE.read_text() == schema.current_schema(), (
        "run `python -m kfjupyter.server.schema --write` and commit rest-schema.json"
    )


def test_check_mode_fails_on_drift(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stale = tmp_path / "rest-schema.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(schema, "SCHEMA_FILE", stale)
    assert schema.main(["--check"]) == 1
    assert schema.main(["--write"]) == 0
    assert schema.main(["--check"]) == 0
