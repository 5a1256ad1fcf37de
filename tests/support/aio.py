"""Running a coroutine from a test that may follow browser tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar, cast

T = TypeVar("T")


def run_fresh(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a fresh loop in its own thread.

    Playwright's sync API leaves its event loop marked as running in the main thread once a browser
    test has run in the session, so ``asyncio.run`` there fails.
    """
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as error:
            result["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return cast(T, result["value"])
