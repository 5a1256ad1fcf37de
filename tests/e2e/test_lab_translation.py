"""The extension's strings go through JupyterLab's translator, in real JupyterLab and Chromium: with
a language pack that carries kfjupyter's domain (a small French one, made here as language packs
are made: a ``jupyterlab.languagepack`` entry point, a Jed JSON catalog for the frontend and a
gettext ``.mo`` for the settings schema) and the Lab's language set to it, the sidebar, the menu,
the Run dialog, the runs' status badges, the step form's problems and the settings schema the
Settings Editor shows speak French; strings the pack lacks stay English."""

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
from tests.e2e.test_notebook_steps import cells_of, open_notebook, shot
from tests.e2e.test_runs_sidebar import open_sidebar
from tests.support.jupyter import LabServer, running_lab
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import wait_until_ended

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
    # a status badge's text, looked up with its context (Jed keys join them with \u0004)
    "status\u0004succeeded": "réussie",
    '"%1" is not a valid step name: use lower-case letters, digits and "_", not starting with a '
    'digit (try "%2").': "« %1 » n'est pas un nom d'étape valide : lettres minuscules, chiffres et "
    "« _ », sans chiffre au début (essayez « %2 »).",
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


def test_status_badges_and_step_problems_speak_the_language_of_the_lab(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(
        lab_server.root / "e2e" / "badges-fr.ipynb",
        [cell("n = 2", "pipeline-parameters"), cell("print(n * 2)", "step:double"), cell("print(n)")],
    )
    status, body = lab_server.request(
        "/kfjupyter/api/notebooks/run",
        token=lab_server.token,
        method="POST",
        body={"path": "e2e/badges-fr.ipynb", "no_cache": True},
    )
    assert status == 202, body
    run_id = body["run_id"]
    assert wait_until_ended(lab_server, run_id) == "succeeded"

    panel = open_notebook(lab_page, lab_server, "e2e/badges-fr.ipynb")
    open_sidebar(lab_page)
    item = lab_page.locator(f'li.jp-kfjupyter-run[data-run-id="{run_id}"]')
    # the shown text is translated; the status value the styles use is not
    badge = item.locator(".jp-kfjupyter-badge")
    expect(badge).to_have_text("réussie", timeout=15_000)
    expect(badge).to_have_attribute("data-status", "succeeded")
    # a kind badge the pack lacks stays English
    expect(item.locator(".jp-kfjupyter-kind-badge")).to_have_text("pipeline")

    cells = cells_of(panel)
    cells.nth(2).locator(".jp-InputPrompt").click()
    cells.nth(2).locator('.jp-cell-toolbar [data-command="kfjupyter:mark-step"]').click()
    form = lab_page.locator(".jp-Dialog .jp-kfjupyter-step-form")
    form.locator('input[name="step"]').fill("Sum It")
    problem = form.locator(".jp-kfjupyter-form-problem")
    expect(problem).to_have_text(
        "« Sum It » n'est pas un nom d'étape valide : lettres minuscules, chiffres et « _ », "
        "sans chiffre au début (essayez « sum_it »)."
    )
    shot(lab_page, output_path, "step-dialog-fr.png")
    # saving checks every field again and opens a new form with the problems, in the same language
    first = form.element_handle()
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Save step").click()
    first.wait_for_element_state("hidden")
    expect(problem).to_contain_text("n'est pas un nom d'étape valide", timeout=10_000)
    expect(form.locator('input[name="step"]')).to_have_value("Sum It")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Annuler").click()
    expect(lab_page.locator(".jp-Dialog")).to_have_count(0)
