"""Write or check the committed JSON schema of the REST models.

``python -m kfjupyter.server.schema --write`` regenerates ``rest-schema.json``;
``--check`` exits 1 when the committed file differs from the code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pydantic.json_schema import models_json_schema

from kfjupyter.server import models_pipelines, models_training
from kfjupyter.server.models import RESPONSE_MODELS

SCHEMA_FILE = Path(__file__).with_name("rest-schema.json")
#: Every request and response model of the REST API.
ALL_MODELS = (*RESPONSE_MODELS, *models_pipelines.MODELS, *models_training.MODELS)


def current_schema() -> str:
    """The JSON schema of every REST model, as stable, pretty-printed text."""
    _, schema = models_json_schema([(m, "serialization") for m in ALL_MODELS], title="kfjupyter REST API")
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="regenerate the committed schema")
    group.add_argument("--check", action="store_true", help="fail if the committed schema is stale")
    args = parser.parse_args(argv)
    text = current_schema()
    if args.write:
        SCHEMA_FILE.write_text(text)
        return 0
    if not SCHEMA_FILE.exists() or SCHEMA_FILE.read_text() != text:
        print(
            f"{SCHEMA_FILE} is stale: run `python -m kfjupyter.server.schema --write`, then "
            "`jlpm run gen:types` (the lab extension's types and guards), and commit both."
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
