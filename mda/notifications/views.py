"""The inbox (every signed-in user), e-mail preferences, and the outbox page of the
functional administrator."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..cases.models import Case
from ..db import db
from ..errors import DomainError
from ..forms import show_domain_error
from ..security.policy import Permission, current_account, may, requires
from . import operations, queries
from .forms import EmptyForm, kind_fields, preferences_form
from .models import MANDATORY_IMMEDIATE, Delivery, Notification, NotificationPreference, OutboxMessage

blueprint = Blueprint("notifications", __name__, url_prefix="/meldingen")
admin_blueprint = Blueprint("mail_admin", __name__, url_prefix="/beheer/e-mail")


def _notification(notification_id: int) -> Notification | None:
    return db.session.get(Notification, notification_id)


def _safe_link(link: str) -> str:
    # Stored by the app itself, but never follow anything but a path on this site.
    return link if link.startswith("/") and not link.startswith("//") else url_for("notifications.index")


@blueprint.get("/")
@requires(Permission.SIGNED_IN)
def index() -> str:
    account = current_account()
    unread_only = request.args.get("ongelezen") == "1"
    notifications = queries.inbox(account, unread_only=unread_only)
    # A case number is shown only while the user may still see the case (an expert taken off a
    # team keeps older notifications, not the case's number).
    visible = {case_id for case_id in {n.case_id for n in notifications if n.case_id is not None}
               if may(account, Permission.CASE_VIEW, db.session.get(Case, case_id))}
    return render_template("notifications/index.html", notifications=notifications, visible_cases=visible,
                           unread_only=unread_only, unread=queries.unread_count(account), form=EmptyForm())


@blueprint.get("/<int:notification_id>")
@requires(Permission.SIGNED_IN, load=_notification)
def open_notification(target: Notification, notification_id: int) -> Response:
    """Mark it read and go to the place of work (the link in an e-mail leads here)."""
    account = current_account()
    operations.mark_read(target, by=account)
    if target.case_id is not None:
        case = db.session.get(Case, target.case_id)
        if case is None or not may(account, Permission.CASE_VIEW, case):
            flash("U heeft geen toegang (meer) tot deze casus.")
            return redirect(url_for("notifications.index"))
    return redirect(_safe_link(target.link))


@blueprint.post("/<int:notification_id>/gelezen")
@requires(Permission.SIGNED_IN, load=_notification)
def mark_read(target: Notification, notification_id: int) -> Response:
    if EmptyForm().validate():
        operations.mark_read(target, by=current_account())
    return redirect(url_for("notifications.index"))


@blueprint.post("/alles-gelezen")
@requires(Permission.SIGNED_IN)
def mark_all_read() -> Response:
    if EmptyForm().validate():
        count = operations.mark_all_read(by=current_account())
        flash(f"{count} melding(en) als gelezen gemarkeerd.")
    return redirect(url_for("notifications.index"))


@blueprint.route("/instellingen", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
def preferences() -> str | Response | tuple[str, int]:
    account = current_account()
    settings = operations.settings_of(account)
    chosen = {p.kind: p.delivery for p in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == account.id))}
    form = preferences_form(chosen, email=settings.email, digest_hour=settings.digest_hour)
    if request.method == "POST":
        if form.validate():
            try:
                operations.save_preferences(account, email=form.email.data, digest_hour=form.digest_hour.data,
                                            deliveries={kind: Delivery(field.data) for kind, field in kind_fields(form)},
                                            by=account)
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                flash("Uw instellingen voor meldingen zijn opgeslagen.")
                return redirect(url_for("notifications.preferences"))
        return render_template("notifications/preferences.html", form=form, kinds=kind_fields(form),
                               mandatory=sorted(MANDATORY_IMMEDIATE, key=lambda k: k.label)), 422
    return render_template("notifications/preferences.html", form=form, kinds=kind_fields(form),
                           mandatory=sorted(MANDATORY_IMMEDIATE, key=lambda k: k.label))


@admin_blueprint.get("/")
@requires(Permission.USERS_MANAGE)
def outbox() -> str:
    everything = request.args.get("alles") == "1"
    demo = current_app.extensions["mda.settings"].mode == "demo"
    return render_template("notifications/outbox.html", messages=queries.outbox_rows(problems_only=not everything),
                           everything=everything, backlog=queries.outbox_backlog(), failed=queries.outbox_failed(),
                           demo=demo, form=EmptyForm())


@admin_blueprint.post("/<int:message_id>/opnieuw")
@requires(Permission.USERS_MANAGE)
def retry(message_id: int) -> Response:
    target = db.session.get(OutboxMessage, message_id)
    if target is None:
        abort(404)
    if EmptyForm().validate():
        try:
            operations.retry(target, by=current_account())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message)
        else:
            flash("De e-mail staat weer in de wachtrij.")
    return redirect(url_for("mail_admin.outbox"))
