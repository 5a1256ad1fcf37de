"""The image compiled steps get by default, and the error that says where to set one."""

from __future__ import annotations

import pytest

from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.errors import InvalidInput
from kfjupyter.kfp.pipeline import IMAGE_ENV
from kfjupyter.runs import kfp_submit
from kfjupyter.runs.kfp_submit import check_images
from kfjupyter.server.kfp_options import KfpOptions
from tests.unit.notebook.nbfactory import code, notebook


def test_the_server_reads_the_same_variable_as_the_compiler() -> None:
    assert kfp_submit.IMAGE_ENV == IMAGE_ENV


def test_default_image_prefers_the_setting_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IMAGE_ENV, raising=False)
    assert KfpOptions().default_image() is None
    monkeypatch.setenv(IMAGE_ENV, "env/image:1")
    assert KfpOptions().default_image() == "env/image:1"
    assert KfpOptions(image="setting/image:2").default_image() == "setting/image:2"


def test_no_image_names_the_step_and_every_place_to_set_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IMAGE_ENV, raising=False)
    pipeline, _ = compile_notebook(notebook(code("x = 1", "step:one")), target="cluster")
    with pytest.raises(InvalidInput) as raised:
        check_images(pipeline, None)
    message = raised.value.message
    assert "step 'one' has no container image" in message
    for where in ("Image field of the Compile dialog", "c.KfJupyterApp.kfp_image", "$KFJUPYTER_IMAGE"):
        assert where in message
    assert raised.value.reason == "no_image"
    check_images(pipeline, "given/image:3")  # an image for every step: no error


def test_the_command_line_and_the_magics_say_it_in_the_compilers_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kfjupyter.kfp.pipeline import resolve_image

    monkeypatch.delenv(IMAGE_ENV, raising=False)
    pipeline, _ = compile_notebook(notebook(code("x = 1", "step:one")), target="cluster")
    with pytest.raises(InvalidInput) as checked:
        check_images(pipeline, None, "pass --image")  # kfjupyter submit, %kf run --backend kfp
    with pytest.raises(InvalidInput) as compiled:
        resolve_image(pipeline.steps[0], None)  # kfjupyter compile
    assert checked.value.message == compiled.value.message
    assert checked.value.reason == "no_image"
