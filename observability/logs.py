"""Log lines as JSON (one object a line), each line a request causes carrying its request id.

Configured once, in `server.main`: `PANJEREH_LOG_FORMAT=json` (the default in production, and
wherever stderr is not a terminal) or `text` (the default when a person runs the embedded
gateway in a terminal). The JSON is python-json-logger's `JsonFormatter`: it plugs into the
standard `logging` the whole code base already uses, so every `log.info(..., extra={...})`
becomes fields without rewriting a call site.

The request id lives in a context variable set by the access-log middleware for the request's
task (tasks it starts inherit it); a filter on the handler copies it onto every record. It is
for the logs only: nothing decides anything from it. What a line may hold is the request id,
agency ids, outcomes, durations and paths: never a national code, a token or a query's text.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import Literal, TextIO

from pythonjsonlogger.json import JsonFormatter

__all__ = ["REQUEST_ID_VAR", "LogFormat", "RequestIdFilter", "configure_logging", "log_handler"]

LogFormat = Literal["json", "text", "auto"]

REQUEST_ID_VAR: ContextVar[str | None] = ContextVar("panjereh_request_id", default=None)
"""The id of the request the running task serves (None outside a request)."""

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
_JSON_FIELDS = ("asctime", "levelname", "name", "message", "request_id")


class RequestIdFilter(logging.Filter):
    """Put the current request id (or None) on each record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID_VAR.get()
        return True


def log_handler(fmt: Literal["json", "text"], stream: TextIO | None = None) -> logging.Handler:
    """A stream handler with the request-id filter and the chosen formatter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                list(_JSON_FIELDS),
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                json_ensure_ascii=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT))
    return handler


def configure_logging(
    level: str, fmt: LogFormat, *, production: bool, stream: TextIO | None = None
) -> logging.Handler:
    """Replace the root logger's handlers with one handler of the chosen format."""
    out = stream or sys.stderr
    if fmt == "auto":
        fmt = "text" if not production and out.isatty() else "json"
    handler = log_handler(fmt, out)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
