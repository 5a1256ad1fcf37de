"""What every REST handler module shares: URL patterns, query parsing, the run store, the run context.

Handler modules import from here and from :mod:`kfjupyter.server.handlers` (the base handler),
never from each other; the import contracts in ``pyproject.toml`` check it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from kfjupyter.errors import InvalidInput, NotFound
from kfjupyter.runs.backend import RunContext, SourceKind
from kfjupyter.server.errors import validation_message
from kfjupyter.server.kfp_options import KfpOptions
from kfjupyter.server.paths import confine, confine_file, relative_to_root
from kfjupyter.store import RunRecord, RunStore, open_store
from kfjupyter.store.base import mark_interrupted_for_reading

RUN_ID = r"(?P<run_id>[^/]+)"
STEP = r"(?P<step>[^/]+)"
#: Query arguments that belong to Jupyter's authentication, not to our queries.
_AUTH_QUERY_ARGUMENTS = frozenset({"token", "_xsrf"})
M = TypeVar("M", bound=BaseModel)


def parse_query(model: type[M], arguments: dict[str, list[bytes]]) -> M:
    """Validate query ``arguments`` into ``model``; a 400 naming the bad arguments if they do not fit.

    Jupyter's auth arguments and the bare number JupyterLab appends to GETs to defeat caches are
    ignored; any other unknown argument is an error.
    """
    raw = {
        name: values[-1].decode(errors="replace")
        for name, values in arguments.items()
        if name not in _AUTH_QUERY_ARGUMENTS and not name.isdigit()
    }
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise InvalidInput(validation_message(error, model.model_fields, what="query")) from None


@contextmanager
def opened_store() -> Iterator[RunStore]:
    """The run store of this server (``KFJUPYTER_HOME``), closed when the block ends."""
    store = open_store()
    try:
        yield store
    finally:
        store.close()


def refresh_liveness(store: RunStore, log: logging.Logger) -> None:
    """Mark runs whose process died interrupted before they are read.

    A store that cannot be written now (a full disk) is still read, with a warning in the server log.
    """
    warning = mark_interrupted_for_reading(store)
    if warning:
        log.warning("kfjupyter: %s", warning)


def check_recorded(root_dir: str, allow_hidden: bool, run: RunRecord, path: Path, kind: SourceKind) -> None:
    """Refuse a recorded notebook or script the server may not run again: outside the root, hidden, gone.

    ``Forbidden`` outside the root or hidden, ``NotFound`` when it no longer exists, ``InvalidInput``
    for a notebook that is no longer a notebook.
    """
    relative = relative_to_root(root_dir, path)
    if not path.is_file():
        raise NotFound(f"the {kind} of run {run.id}, {relative!r}, no longer exists")
    if kind == "notebook":
        confine(root_dir, relative, "notebook", allow_hidden=allow_hidden)
    else:
        confine_file(
            root_dir,
            relative,
            suffixes=(".py",),
            kind="Python script",
            field="script",
            allow_hidden=allow_hidden,
        )


def run_context(store: RunStore, kfp: KfpOptions, root_dir: str, allow_hidden: bool) -> RunContext:
    """The run operations' context for a request to this server."""
    return RunContext(
        store=store,
        kfp=kfp.connection,
        kfp_token=kfp.token or None,
        kfp_cookie=kfp.cookie or None,
        kfp_image=kfp.image or None,
        check_source=partial(check_recorded, root_dir, allow_hidden),
    )
