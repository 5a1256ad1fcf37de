"""The one place that maps errors to HTTP statuses."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from kfjupyter import errors
from kfjupyter.server.errors import to_http_error


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.InvalidInput("bad"), 400),
        (errors.Forbidden("no"), 403),
        (errors.NotFound("gone"), 404),
        (errors.Conflict("busy"), 409),
        (errors.Unavailable("later"), 503),
        (errors.StorageFault("store broken"), 503),
        (errors.InsufficientStorage("disk full"), 507),
        (errors.StepFailed("boom"), 500),
    ],
)
def test_deliberate_errors_map_to_statuses(error: errors.KfJupyterError, status: int) -> None:
    http = to_http_error(error)
    assert http is not None
    assert http.status_code == status
    assert http.log_message == error.message


def test_validation_errors_name_the_field() -> None:
    class Body(BaseModel):
        count: int

    with pytest.raises(ValidationError) as info:
        Body.model_validate({"count": "many"})
    http = to_http_error(info.value)
    assert http is not None and http.status_code == 400
    assert "count" in (http.log_message or "")


def test_bugs_are_not_mapped() -> None:
    assert to_http_error(ZeroDivisionError()) is None


def test_a_full_disk_is_507_not_a_bug() -> None:
    import errno

    for code in (errno.ENOSPC, errno.EDQUOT):
        http = to_http_error(OSError(code, "No space left on device"))
        assert http is not None and http.status_code == 507
        assert "disk is full" in (http.log_message or "")
    assert to_http_error(OSError(errno.EIO, "I/O error")) is None  # anything else stays a logged 500


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (2, errors.InvalidInput),
        (73, errors.InsufficientStorage),
        (74, errors.StorageFault),
        (75, errors.Unavailable),
        (1, errors.InvalidInput),
    ],
)
def test_exit_statuses_name_the_kind_back(status: int, kind: type[errors.KfJupyterError]) -> None:
    error = errors.error_for_exit_status(status, "m")
    assert type(error) is kind and error.message == "m"
    if status >= 73:
        assert kind.exit_status == status
