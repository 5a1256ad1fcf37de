"""The committed gettext template of the ``kfjupyter`` domain (``labextension/kfjupyter.pot``) is
what ``tools/i18n_pot.mjs`` extracts from the lab extension's sources and settings schemas today,
so a string added to the frontend cannot be missing from what translators see."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "labextension" / "kfjupyter.pot"
EXTRACTOR = ROOT / "tools" / "i18n_pot.mjs"


def extract(*args: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node is not None, "Node.js runs the extractor (./dev setup installs it)"
    return subprocess.run(
        [node, str(EXTRACTOR), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_committed_template_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "kfjupyter.pot"
    done = extract("--out", str(fresh))
    assert done.returncode == 0, done.stderr
    assert fresh.read_text() == TEMPLATE.read_text(), (
        "labextension/kfjupyter.pot is out of date: run `jlpm run i18n:pot` and commit it"
    )


def test_the_template_holds_frontend_and_schema_strings_with_their_contexts() -> None:
    with TEMPLATE.open("rb") as stream:
        catalog = read_po(stream)
    # plain, plural and contextual frontend strings, each with the file it comes from
    plain = catalog.get('Give the step a name, e.g. "train".')
    assert plain is not None and ("labextension/src/models/stepMetadata.ts", None) in plain.locations
    plural = catalog.get("%1 node")
    assert plural is not None and plural.id == ("%1 node", "%1 nodes")
    status = catalog.get("succeeded", context="status")
    assert status is not None and ("labextension/src/format.ts", None) in status.locations
    assert catalog.get("Run as Pipeline…") is not None
    # the settings schema's strings, with the contexts the server translates them with
    assert catalog.get("Runs list refresh (seconds)", context="settings") is not None
    assert catalog.get("Kubeflow", context="menu") is not None
    assert catalog.get("Kubeflow", context="settings") is not None
    # a template: nothing translated yet
    texts = [message.string for message in catalog if message.id]
    assert len(texts) > 250
    assert all(text in ("", ("", "")) for text in texts)


def test_a_message_that_is_not_a_literal_string_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "widget.ts").write_text(
        "const trans = { __: (s: string) => s };\n"
        "const label = 'Runs';\n"
        "trans.__('Runs');\n"
        "trans.__(label);\n"
    )
    done = extract("--src", str(source), "--schemas", str(tmp_path), "--out", str(tmp_path / "x.pot"))
    assert done.returncode == 1
    assert "widget.ts:4: trans.__(label) has no literal string to translate" in done.stderr
    assert not (tmp_path / "x.pot").exists()
