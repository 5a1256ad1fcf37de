"""The admins' profiles reference is generated from the schema and committed up to date."""

from __future__ import annotations

from kfjupyter_spawner import docs


def test_reference_is_current() -> None:
    assert docs.TARGET.read_text(encoding="utf-8") == docs.render(), (
        "run python -m kfjupyter_spawner.docs --write"
    )


def test_every_field_is_described() -> None:
    for model in docs.MODELS:
        for name, field in model.model_fields.items():
            assert field.description or name == "kind", f"{model.__name__}.{name} has no description"
