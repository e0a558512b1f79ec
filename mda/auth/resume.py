"""Back to the place of work after a session ended: the page one was on, and what a form held.

The page is remembered as a path in the (signed) session cookie: paths name records by id only.
What a form held when it was posted after the session had ended is kept as an encrypted draft
on the server (``FormDraft``), never in the browser. After logging in again the user lands on
that page and the form that matches the draft is filled with it (``restore_into``).
"""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Request, Response, current_app, flash, g, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from ..accounts.models import User
from ..db import db
from ..timeutil import utcnow
from .models import FormDraft

PAGE_KEY = "page"
RESUME_KEY = "resume"
RESTORE_KEY = "restore_draft"
DRAFT_HOURS = 24  # a draft nobody came back for is removed at its owner's next login
NOT_A_PAGE = frozenset({"auth.renew_session", "static", "bootstrap.static"})
MAX_DRAFT_CHARS = 50_000


def note_page(this_request: Request) -> None:
    """A browser navigation (not a fetch) may be the page in view; ``remember_page`` decides once
    the answer is known. ``this_request``: the request itself, not Flask's proxy (mda.web)."""
    if this_request.endpoint in NOT_A_PAGE or this_request.endpoint is None:
        return
    accept = this_request.accept_mimetypes
    if accept and accept.best_match(["text/html", "application/json"]) != "text/html":
        return
    g.page_candidate = this_request.path


def remember_page(response: Response) -> Response:
    """Remember the page in view, if the answer is a page: not a download (a CSV or PDF, which would
    be downloaded again after the next login instead of showing a page), nor an error page."""
    path = g.pop("page_candidate", None)
    if path is not None and response.status_code == 200 and response.mimetype == "text/html" \
            and session.get(PAGE_KEY) != path:  # unchanged: the session cookie need not be sent again
        session[PAGE_KEY] = path
    return response


def keep_for_after_login() -> None:
    """The session has ended: keep what a posted form held, end the session, remember where."""
    account: User = current_user.account
    page = session.get(PAGE_KEY)
    draft_id = None
    if request.method == "POST" and request.endpoint not in NOT_A_PAGE and request.form:
        values = {key: request.form.getlist(key) for key in request.form if not key.endswith("csrf_token")}
        text = json.dumps(values, ensure_ascii=False)
        if values and len(text) <= MAX_DRAFT_CHARS:
            draft = FormDraft(user_id=account.id, page=page or request.path, fields=text)
            db.session.add(draft)
            db.session.flush()
            draft_id = draft.id
    logout_user()
    session.clear()
    session[RESUME_KEY] = {"user_id": account.id, "page": page, "draft": draft_id}
    if draft_id:
        flash("Uw sessie is verlopen. Wat u had ingevuld is bewaard: log opnieuw in, dan staat het weer in "
              "het formulier.", "warning")
    else:
        flash("Uw sessie is verlopen. Log opnieuw in; u komt terug op de pagina waar u was.", "warning")


def safe_page(path: object) -> str | None:
    """``path`` if it is a page of this app reachable with GET; never another site (open redirect)."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return None
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(parts.path, method="GET")
    except (HTTPException, RequestRedirect):
        return None
    if endpoint.startswith("auth.") or endpoint in NOT_A_PAGE:
        return None
    return parts.path


def purge_old_drafts(user_id: int | None = None) -> int:
    """Remove drafts older than ``DRAFT_HOURS`` (of one user, or of everyone)."""
    query = db.session.query(FormDraft).filter(FormDraft.kept_at < utcnow() - timedelta(hours=DRAFT_HOURS))
    if user_id is not None:
        query = query.filter(FormDraft.user_id == user_id)
    return query.delete(synchronize_session=False)


def after_login_target(resume: object, account: User) -> str:
    """Where a fresh login goes: back to the page the same user was on, else the start page."""
    purge_old_drafts(account.id)
    if not isinstance(resume, dict) or resume.get("user_id") != account.id:
        return url_for("home.index")
    if isinstance(resume.get("draft"), int):
        session[RESTORE_KEY] = resume["draft"]
    return safe_page(resume.get("page")) or url_for("home.index")


def restore_into(form: object) -> None:
    """Fill ``form`` with the kept draft when this is its page and the draft holds its fields.
    Called by every form (mda.forms.Form); the draft is removed once it is back in a form."""
    draft_id = session.get(RESTORE_KEY) if request else None
    if draft_id is None or request.method != "GET" or getattr(g, "draft_restored", False):
        return
    draft = db.session.get(FormDraft, draft_id)
    if draft is None or not current_user.is_authenticated or draft.user_id != current_user.account.id:
        session.pop(RESTORE_KEY, None)
        return
    if draft.page != request.path:
        return
    values = json.loads(draft.fields or "{}")
    names = {field.name for field in form if not field.name.endswith("csrf_token")}  # type: ignore[attr-defined]
    typed = {name for name in names if name != "version" and not name.endswith("-version")}
    # This form's draft: every posted value is one of its fields, and something was typed in it.
    if not set(values) <= names or not typed & set(values):
        return
    form.process(formdata=MultiDict([(key, value) for key, items in values.items() for value in items]))  # type: ignore[attr-defined]
    g.draft_restored = True
    session.pop(RESTORE_KEY, None)
    db.session.delete(draft)
    flash("Wat u had ingevuld toen uw sessie verliep, staat weer in het formulier. Controleer het en sla "
          "het opnieuw op.", "warning")
