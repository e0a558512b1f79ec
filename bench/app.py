"""The production app plus two reference routes, for the benchmark only.

``/hello`` goes through the same middleware as every page (login check, Talisman headers, the
commit-per-request hook), but renders nothing and reads nothing: the ceiling of this app on this
machine.

``/floor`` is the least any page of personal data can cost: signed in (the session check, the
account and its roles loaded), one audit record appended to the hash chain, and the durable
commit of the request, nothing else (no case, no template). Pages are held against it, and it is
held against /hello and against the disk's own commit rate (bench/commit_rate.py).

``/floor-noaudit`` is the floor without its audit record (signed in, nothing recorded, nothing
committed): only for bench/floor_profile.py, to split the floor's cost into the sign-in check and
the audit append with its durable commit. No page of personal data may be like it.

All three exist only in this wrapper, never in ``mda.create_app``.
"""
from __future__ import annotations

from flask import Flask

from mda import create_app


def create_bench_app() -> Flask:
    app = create_app()

    @app.route("/hello")
    def bench_hello() -> str:
        return "hello"

    from mda.audit.models import AuditAction
    from mda.audit.trail import record
    from mda.security.policy import Permission, current_account, requires

    @app.route("/floor")
    @requires(Permission.SIGNED_IN)
    def bench_floor() -> str:
        record(AuditAction.READ, by=current_account(), object_type="benchmark", detail="floor")
        return "floor"

    @app.route("/floor-noaudit")
    @requires(Permission.SIGNED_IN)
    def bench_floor_noaudit() -> str:
        return "floor without audit"

    # The production login check lets only its own short list through; wrap it for /hello.
    functions = app.before_request_funcs.setdefault(None, [])
    for index, function in enumerate(functions):
        if function.__name__ == "_require_login":
            original = function

            def require_login_except_hello():  # noqa: ANN202
                from flask import request
                return None if request.endpoint == "bench_hello" else original()
            functions[index] = require_login_except_hello
    return app
