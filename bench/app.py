"""The production app plus a bare ``/hello`` route, for the benchmark only.

The route goes through the same middleware as every page (login check, Talisman headers, the
commit-per-request hook), but renders nothing and reads nothing: the ceiling of this app on this
machine. It exists only in this wrapper, never in ``mda.create_app``.
"""
from __future__ import annotations

from flask import Flask

from mda import create_app


def create_bench_app() -> Flask:
    app = create_app()

    @app.route("/hello")
    def bench_hello() -> str:
        return "hello"

    # The production login check lets only its own short list through; wrap it for this route.
    functions = app.before_request_funcs.setdefault(None, [])
    for index, function in enumerate(functions):
        if function.__name__ == "_require_login":
            original = function

            def require_login_except_hello():  # noqa: ANN202
                from flask import request
                return None if request.endpoint == "bench_hello" else original()
            functions[index] = require_login_except_hello
    return app
