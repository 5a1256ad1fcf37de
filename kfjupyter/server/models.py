"""Request and response models of the REST API (pydantic v2).

Their JSON schema is committed in ``kfjupyter/server/rest-schema.json``; a test fails when the
code and the file drift apart. Regenerate with ``python -m kfjupyter.server.schema --write``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Backend(_Model):
    """An execution backend the server is configured with."""

    name: str = Field(description="Backend name, e.g. 'local' or 'kfp'.")
    kind: Literal["pipelines", "training"] = Field(description="What the backend runs.")
    available: bool = Field(description="Whether the backend can take work right now.")
    detail: str = Field("", description="Endpoint or reason it is unavailable.")


class Health(_Model):
    """Response of ``GET /kfjupyter/api/health``."""

    version: str = Field(description="kfjupyter version running on the server.")
    user: str = Field(description="Name of the authenticated user.")
    backends: list[Backend] = Field(description="Configured pipeline and training backends.")


class ErrorBody(_Model):
    """Body of every error response."""

    message: str = Field(description="What went wrong and what to do, safe to show to the user.")
    reason: str | None = Field(None, description="Short machine-readable reason.")


RESPONSE_MODELS: tuple[type[BaseModel], ...] = (Health, ErrorBody)
