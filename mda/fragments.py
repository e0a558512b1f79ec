"""Parts of pages remembered per worker: HTML that is a pure function of a few values (the main
menu of an account's roles, the caseload's filter fields) is rendered once per combination of
those values instead of on every request.

A remembered fragment is rendered with the app's Jinja environment only, without Flask's context
processors: the user, the session, ``g`` and ``can()`` are not there to read, so it can only show
what its key holds. Links (``url_for``) are built inside the request as usual; the key holds the
script root they depend on."""
from __future__ import annotations

from typing import Any, Hashable

from flask import current_app, request
from markupsafe import Markup

MEMORY_SIZE = 256
_EXTENSION = "mda.fragments"


def remembered(template_name: str, key: Hashable, **context: Any) -> Markup:
    """``template_name`` rendered with ``context``, remembered by ``key``, which must hold every
    value of ``context`` that the fragment's HTML depends on (and may hold them all). A key that
    cannot be hashed renders without remembering."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        full_key = (template_name, request.script_root, key)
        hash(full_key)
    except TypeError:
        return Markup(app.jinja_env.get_template(template_name).render(**context))
    memory: dict[Hashable, Markup] = app.extensions.setdefault(_EXTENSION, {})
    html = memory.get(full_key)
    if html is None:  # only now is the template looked up (and, where templates reload, its file checked)
        html = Markup(app.jinja_env.get_template(template_name).render(**context))
        if len(memory) >= MEMORY_SIZE:
            memory.clear()  # values typed into URLs (a filter) make the keys many; start over rather than grow
        memory[full_key] = html
    return html
