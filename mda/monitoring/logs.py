"""Structured logs: one JSON object per line, with the request id, and never personal data.

What may be logged is decided where a message is written (types, endpoint names, counts, ids of
requests); this formatter adds a second guard: it writes the message and a short list of known
fields only, and of an exception only its type and the place it was raised, never its message
(an exception's text can carry values from the request or the database).
"""
from __future__ import annotations

import json
import logging
import re
import sys
import traceback
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# An id from a proxy or load balancer is kept only if it is short and plain (no spaces, no
# personal data smuggled through a header into every log line); anything else gets a fresh one.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")
# Extra fields a log call may add with ``extra={...}``; everything else passed there is dropped.
FIELDS = ("request_id", "method", "endpoint", "group", "status", "duration_ms", "worker_pid", "event")
_HANDLER_MARK = "_mda_json_handler"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...FIELDS, "exception"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                body[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            kind, _value, trace = record.exc_info
            frames = traceback.extract_tb(trace)[-5:]
            body["exception"] = {"type": kind.__name__,
                                 "at": [f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" for frame in frames]}
        return json.dumps(body, ensure_ascii=False, default=str)


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every record written while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and has_request_context():
            record.request_id = g.get("request_id")
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the moment (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def json_handler() -> logging.Handler:
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    setattr(handler, _HANDLER_MARK, True)
    return handler


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the app's own logger ("mda"), unless the root logger already writes
    them (``mda serve`` configures it); idempotent, as create_app may run many times."""
    logger = logging.getLogger("mda")
    logger.setLevel(level)
    own = [handler for handler in logger.handlers if getattr(handler, _HANDLER_MARK, False)]
    if any(getattr(handler, _HANDLER_MARK, False) for handler in logging.getLogger().handlers):
        for handler in own:  # the root writes JSON lines already: once is enough
            logger.removeHandler(handler)
    elif not own:
        logger.addHandler(json_handler())


def log_to_stderr_as_json(level: int = logging.INFO) -> None:
    """For a long-running command (the worker): every logger writes JSON lines, each line once.
    The root logger gets the JSON handler and the app's own one is removed (configure_logging)."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(handler, _HANDLER_MARK, False) for handler in root.handlers):
        root.addHandler(json_handler())
    configure_logging(level)


def request_id() -> str:
    return g.get("request_id") or "-"


def init_app(app: Flask) -> None:
    configure_logging()

    @app.before_request
    def _assign_request_id() -> None:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = offered if _SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response):  # noqa: ANN001, ANN202
        if g.get("request_id"):
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response
