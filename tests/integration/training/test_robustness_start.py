"""A job whose supervisor cannot start ends ``failed`` at once; values no process can take are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfjupyter.errors import InvalidInput, KfJupyterError
from kfjupyter.store import RunStore
from kfjupyter.training import train
from kfjupyter.training.backends import local

pytestmark = pytest.mark.integration


def test_a_nul_in_an_env_value_is_refused_before_anything_is_recorded(store: RunStore) -> None:
    with pytest.raises(InvalidInput, match=r"env\.TOKEN: .*NUL"):
        train(print, env={"TOKEN": "abc\x00def"}, backend="local", store=store)
    with pytest.raises(InvalidInput, match=r"env: .*identifiers"):
        train(print, env={"A\x00B": "x"}, backend="local", store=store)
    with pytest.raises(InvalidInput, match=r"env\.BIG: .*bytes long"):
        train(print, env={"BIG": "x" * (1 << 17)}, backend="local", store=store)
    with pytest.raises(InvalidInput, match="name"):
        train(print, name="a\x00b", backend="local", store=store)
    with pytest.raises(InvalidInput, match=r"env: .*environment variables \['PET_NNODES'\] are reserved"):
        train(print, env={"PET_NNODES": "4"}, backend="local", store=store)
    assert store.list_runs(kind="training") == []


def test_a_nul_in_a_script_argument_is_refused(store: RunStore, tmp_path: Path) -> None:
    script = tmp_path / "fit.py"
    script.write_text("print('hi')\n")
    with pytest.raises(InvalidInput, match=r"entrypoint: .*script argument 1 \(args\[1\]\) contains a NUL"):
        train(str(script), args=["ok", "bad\x00arg"], backend="local", store=store)
    assert store.list_runs(kind="training") == []


def test_a_supervisor_that_cannot_exec_fails_the_job(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = "/nonexistent/kfjupyter/python"
    monkeypatch.setattr(local, "SUPERVISOR_PYTHON", missing)
    with pytest.raises(KfJupyterError, match="could not be started") as exc:
        train(print, backend="local", store=store)
    assert "No such file or directory" in exc.value.message and missing in exc.value.message
    (run,) = store.list_runs(kind="training")
    assert run.status == "failed" and run.owner_pid is None
    assert run.error is not None and missing in run.error
    assert {s.status for s in store.get_steps(run.id)} == {"failed"}


def test_an_environment_too_big_to_exec_fails_the_job(store: RunStore) -> None:
    env = {f"PAD_{i}": "x" * 120_000 for i in range(100)}  # each fits, together over any ARG_MAX
    with pytest.raises(KfJupyterError, match=r"could not be started .*Argument list too long"):
        train(print, env=env, backend="local", store=store)
    (run,) = store.list_runs(kind="training")
    assert run.status == "failed" and "Argument list too long" in (run.error or "")
