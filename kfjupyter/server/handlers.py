"""REST handlers: thin front doors that parse, call the core and serialise a model."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from pydantic import BaseModel, ValidationError
from tornado import web

from kfjupyter._version import __version__
from kfjupyter.errors import InvalidInput
from kfjupyter.runs.backend import RunContext
from kfjupyter.server import models
from kfjupyter.server.errors import to_http_error, validation_message
from kfjupyter.server.requests import run_context
from kfjupyter.store import RunStore

AUTH_RESOURCE = "kfjupyter"
#: A JSON escape of half a UTF-16 surrogate pair (``\ud800``-``\udfff``).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
#: Longest error message sent; longer ones (echoing huge input) are cut in the middle.
MAX_MESSAGE = 2000
M = TypeVar("M", bound=BaseModel)


class KfJupyterHandler(ExtensionHandlerMixin, APIHandler):
    """Base handler: authenticated, authorized on the ``kfjupyter`` resource, JSON errors."""

    auth_resource = AUTH_RESOURCE

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer every error with ``{"message", "reason"}``; never a traceback."""
        self.set_header("Content-Type", "application/json")
        exc_info = kwargs.get("exc_info")
        message = self._reason
        reason: str | None = None
        if exc_info is not None:
            error = exc_info[1]
            if isinstance(error, web.HTTPError):
                # ``get_message``: ``log_message`` doubles every '%' since tornado 6.5.
                message = error.get_message() or message
                reason = getattr(error, "kf_reason", None) or error.reason
        if len(message) > MAX_MESSAGE:  # an echoed 60 kB id helps nobody
            half = (MAX_MESSAGE - 5) // 2
            message = f"{message[:half]} ... {message[-half:]}"
        self.finish(models.ErrorBody(message=message, reason=reason).model_dump_json())

    @property
    def allow_hidden(self) -> bool:
        """Whether Jupyter's file API serves hidden files (``ContentsManager.allow_hidden``)."""
        return bool(getattr(self.serverapp.contents_manager, "allow_hidden", False))

    def _handle_request_exception(self, e: BaseException) -> None:
        """Route every exception through the one error map; unknown ones are logged 500s."""
        mapped = to_http_error(e) if isinstance(e, Exception) else None
        if mapped is None:
            super()._handle_request_exception(e)
            return
        if mapped.status_code >= 500:
            self.log.warning("kfjupyter request failed: %s", mapped.get_message())
        if not self._finished:
            self.send_error(mapped.status_code, exc_info=(type(mapped), mapped, None))

    def parse_body(self, model: type[M]) -> M:
        """Parse the JSON body into ``model``; a clear 400 naming the fields when it does not fit."""
        try:
            raw = json.loads(self.request.body or b"{}")
        except ValueError as error:  # UnicodeDecodeError too: the body must be UTF-8
            raise InvalidInput(f"Request body is not valid JSON: {error}") from None
        except RecursionError:
            raise InvalidInput("Request body is nested too deeply; send a flatter JSON object") from None
        if _SURROGATE_ESCAPE.search(self.request.body or b""):
            try:  # a pair (an escaped emoji) is fine; a lone half cannot become a file name or argument
                json.dumps(raw, ensure_ascii=False).encode()
            except UnicodeEncodeError:
                raise InvalidInput(
                    "Request body holds a lone UTF-16 surrogate (\\ud800-\\udfff) in a string; "
                    "send valid Unicode text"
                ) from None
        if not isinstance(raw, dict):
            fields = ", ".join(model.model_fields)
            raise InvalidInput(
                f"Request body must be a JSON object (with the fields {fields}), not {_kind(raw)}"
            )
        try:
            return model.model_validate(raw)
        except ValidationError as error:
            raise InvalidInput(validation_message(error, model.model_fields)) from None

    def reply(self, body: BaseModel, status: int = 200) -> None:
        """Send ``body`` as JSON."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(body.model_dump_json())

    def context_for(self, store: RunStore) -> RunContext:
        """The run operations' context of this request: ``store``, the server's KFP settings and root."""
        return run_context(store, self.settings["kfjupyter_kfp"], self.serverapp.root_dir, self.allow_hidden)

    @property
    def user_name(self) -> str:
        """Name of the authenticated user."""
        user = self.current_user
        return str(getattr(user, "username", user))


def _kind(value: object) -> str:
    """How a JSON value is called in messages: 'a list', 'null', ..."""
    if value is None:
        return "null"
    names = {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return names.get(type(value), "something else")


def api(
    action: str,
) -> Callable[[Callable[..., Awaitable[None] | None]], Callable[..., Awaitable[None] | None]]:
    """Decorate a handler method: require login and authorize ``action`` on kfjupyter.

    ``read`` looks, ``write`` changes recorded state or files (delete, cancel, compile) and
    ``execute`` runs the user's code (run, re-run, submit, train), as jupyter_server asks
    ``execute`` for the kernel channels: a user allowed to write but not to execute runs nothing.
    """

    def wrap(method: Callable[..., Awaitable[None] | None]) -> Callable[..., Awaitable[None] | None]:
        return web.authenticated(authorized(action, resource=AUTH_RESOURCE)(method))

    return wrap


class HealthHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/health``: version, user and configured backends."""

    @api("read")
    def get(self) -> None:
        """Report what this server offers."""
        backends = self.settings.get("kfjupyter_backends", [])
        kfp = self.settings.get("kfjupyter_kfp")  # a KfpOptions
        image = kfp.default_image() if kfp is not None else None
        self.reply(
            models.Health(version=__version__, user=self.user_name, backends=backends, kfp_image=image)
        )
