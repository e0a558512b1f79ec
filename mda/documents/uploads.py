"""Request bodies larger than the app-wide limit, for the views that take files only.

``MAX_CONTENT_LENGTH`` (2 MB) guards every form. A view marked ``@takes_upload`` raises it to
the attachment limit plus room for the form around the file. It must be known before anything
reads the body, and the CSRF check reads the form before any view runs; so the request asks the
matched view for its limit (``Request.max_content_length``), which works from the first read.
"""
from __future__ import annotations

from typing import IO, Any, Callable, TypeVar

import flask
from flask import current_app

FORM_ROOM = 1024 * 1024  # the other fields and multipart framing around the file

View = TypeVar("View", bound=Callable[..., Any])


def takes_upload(limit: Callable[[], int]) -> Callable[[View], View]:
    def mark(view: View) -> View:
        view.request_body_limit = lambda: limit() + FORM_ROOM  # type: ignore[attr-defined]
        return view
    return mark


class Request(flask.Request):
    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and current_app and self.url_rule is not None:
            view = current_app.view_functions.get(self.url_rule.endpoint)
            limit = getattr(view, "request_body_limit", None)
            if limit is not None:
                return limit()
        return flask.Request.max_content_length.fget(self)  # type: ignore[attr-defined]

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        # Werkzeug's own factory (memory up to 500 kB, then an anonymous temporary file), but kept
        # track of: a body refused halfway (too large) leaves a file that no FileStorage holds.
        stream = super()._get_file_stream(total_content_length, content_type, filename, content_length)
        self.__dict__.setdefault("_mda_file_streams", []).append(stream)
        return stream

    def close(self) -> None:
        super().close()
        for stream in self.__dict__.pop("_mda_file_streams", []):
            stream.close()
