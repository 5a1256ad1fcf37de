"""The lab extension's TypeScript REST types and guards are generated from the committed schema.

`tools/gen_rest_types.mjs` (run by `jlpm run gen:types`) writes `labextension/src/generated/`;
its `--check` mode is the gate that fails when the schema and the TypeScript drift apart.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
GENERATOR = ROOT / "tools" / "gen_rest_types.mjs"
SCHEMA = ROOT / "kfjupyter" / "server" / "rest-schema.json"
NODE = shutil.which("node") or "node"


def generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NODE, str(GENERATOR), *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_committed_typescript_matches_the_committed_schema() -> None:
    result = generate("--check")
    assert result.returncode == 0, result.stderr


def test_a_field_added_on_the_server_is_drift_until_regenerated(tmp_path: Path) -> None:
    schema = json.loads(SCHEMA.read_text())
    summary = schema["$defs"]["RunSummary"]
    summary["properties"]["flavour"] = {"description": "A new field.", "title": "Flavour", "type": "string"}
    summary["required"].append("flavour")
    changed = tmp_path / "rest-schema.json"
    changed.write_text(json.dumps(schema))

    stale = generate("--check", "--schema", str(changed))
    assert stale.returncode == 1
    assert "labextension/src/generated/restTypes.ts differs" in stale.stderr
    assert "labextension/src/generated/restValidators.ts differs" in stale.stderr
    assert "restGuards.ts" not in stale.stderr  # no model was added or removed
    assert "jlpm run gen:types" in stale.stderr

    out = tmp_path / "generated"
    assert generate("--schema", str(changed), "--out", str(out)).returncode == 0
    types = (out / "restTypes.ts").read_text()
    summary_type = types[types.index("export interface IRunSummary {") :]
    assert "flavour: string;" in summary_type[: summary_type.index("\n}")]
    assert "data.flavour === undefined" in (out / "restValidators.ts").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["restGuards.ts", "restTypes.ts", "restValidators.ts"]
