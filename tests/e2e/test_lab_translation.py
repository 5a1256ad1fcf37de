"""The extension's strings go through JupyterLab's translator, in real JupyterLab and Chromium: with
a language pack that carries kfjupyter's domain (a small French one, made here as language packs
are made: a ``jupyterlab.languagepack`` entry point, a Jed JSON catalog for the frontend and a
gettext ``.mo`` for the settings schema) and the Lab's language set to it, the sidebar, the menu,
the Run dialog and the settings schema the Settings Editor shows speak French; strings the pack
lacks stay English."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from playwright.sync_api import Page, expect

from tests.e2e.test_kfp_backend import pipeline_notebook
from tests.e2e.test_notebook_steps import open_notebook, shot
from tests.e2e.test_runs_sidebar import open_sidebar
from tests.support.jupyter import LabServer, running_lab

LOCALE = "fr_FR"
PACK = f"jupyterlab_language_pack_{LOCALE}"
LANGUAGE = "/lab/api/settings/@jupyterlab/translation-extension:plugin"

FRONTEND = {
    "Runs": "Exécutions",
    "Run as Pipeline…": "Exécuter en pipeline…",
    "Run %1 as a pipeline": "Exécuter %1 en pipeline",
    "Run every step (ignore cached outputs)": "Exécuter chaque étape (sans le cache)",
    "Run": "Lancer",
    "Cancel": "Annuler",
}
SCHEMA = {("settings", "Runs list refresh (seconds)"): "Rafraîchissement des exécutions (secondes)"}


def write_language_pack(site: Path) -> None:
    """A language pack for ``LOCALE`` with only kfjupyter's domain, importable from ``site``."""
    messages = site / PACK / "locale" / LOCALE / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (site / PACK / "__init__.py").write_text('"""A test language pack."""\n')
    header = {"domain": "kfjupyter", "language": "fr", "plural_forms": "nplurals=2; plural=(n > 1);"}
    catalog = {"": header, **{source: [text] for source, text in FRONTEND.items()}}
    (messages / "kfjupyter.json").write_text(json.dumps(catalog, ensure_ascii=False))
    mo = Catalog(locale=LOCALE, domain="kfjupyter")
    for (context, source), text in SCHEMA.items():
        mo.add(source, text, context=context)
    with (messages / "kfjupyter.mo").open("wb") as out:
        write_mo(out, mo)
    info = site / "jupyterlab_language_pack_fr_FR-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: jupyterlab-language-pack-fr-FR\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(f"[jupyterlab.languagepack]\n{LOCALE} = {PACK}\n")


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """This module's own lab, with the language pack installed and the Lab's language set to it."""
    home = tmp_path_factory.mktemp("french-lab")
    site = home / "site"
    write_language_pack(site)
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", path)
        with running_lab(home) as server:
            raw = json.dumps({"locale": LOCALE})
            status, body = server.request(LANGUAGE, token=server.token, method="PUT", body={"raw": raw})
            assert status in (200, 204), body
            yield server


def test_the_extension_speaks_the_language_of_the_lab(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    status, packs = lab_server.request("/lab/api/translations", token=lab_server.token)
    assert status == 200 and LOCALE in packs["data"], packs
    path = pipeline_notebook(lab_server.root, "en-francais")
    panel = open_notebook(lab_page, lab_server, path)
    open_sidebar(lab_page)
    expect(lab_page.locator(".jp-kfjupyter-runs .jp-kfjupyter-section-header")).to_have_text("Exécutions")
    # the Kubeflow menu: a translated command label next to one the pack lacks
    lab_page.locator(".lm-MenuBar-itemLabel", has_text="Kubeflow").click()
    menu = lab_page.locator(".lm-Menu:visible")
    expect(menu.locator(".lm-Menu-itemLabel", has_text="Exécuter en pipeline…")).to_be_visible()
    expect(menu.locator(".lm-Menu-itemLabel", has_text="Compile to KFP")).to_be_visible()
    lab_page.keyboard.press("Escape")

    panel.locator('.jp-Toolbar [data-command="kfjupyter:run-as-pipeline"]').click()
    dialog = lab_page.locator(".jp-Dialog")
    expect(dialog.locator(".jp-kfjupyter-run-form")).to_be_visible()
    expect(dialog).to_contain_text(f"Exécuter {path} en pipeline")
    expect(dialog).to_contain_text("Exécuter chaque étape (sans le cache)")
    expect(dialog.get_by_role("button", name="Lancer")).to_be_visible()
    shot(lab_page, output_path, "run-dialog-fr.png")
    dialog.get_by_role("button", name="Annuler").click()
    expect(lab_page.locator(".jp-Dialog")).to_have_count(0)

    # the settings schema's titles come from the pack's gettext catalog
    status, body = lab_server.request("/lab/api/settings/kfjupyter:settings", token=lab_server.token)
    assert status == 200, body
    titles = {prop["title"] for prop in body["schema"]["properties"].values()}
    assert "Rafraîchissement des exécutions (secondes)" in titles, titles
    assert "Compile to KFP: default image" in titles, titles
