"""Shared form machinery: Dutch built-in messages and domain errors shown at their field."""
from __future__ import annotations

from typing import Callable

from flask_wtf import FlaskForm
from wtforms import Field, IntegerField
from wtforms.widgets import HiddenInput
from wtforms.validators import InputRequired

from .db import db
from .errors import DomainError

LONG_TEXT = 5000   # free text longer than this is refused, not truncated
SHORT_TEXT = 200


class Form(FlaskForm):
    """Base form: WTForms' own messages (invalid date, not a number, ...) in Dutch.

    A form that shares its page with others sets ``id_prefix``: the posted names stay the same,
    but every id (and every label's ``for``) becomes unique on the page.
    """

    id_prefix: str | None = None

    class Meta:
        locales = ["nl"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if self.id_prefix:
            for field in self:
                field.id = f"{self.id_prefix}-{field.id}"
                field.label.field_id = field.id


class VersionedForm(Form):
    """A form that edits a versioned record carries the version the user saw."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired("Het formulier is onvolledig; "
                                                                                  "laad de pagina opnieuw.")])


def show_domain_error(form: FlaskForm, exc: DomainError, fallback: str | None = None) -> None:
    """Undo whatever the refused operation did and put its Dutch message next to its field
    (or ``fallback``; without either, above the form)."""
    db.session.rollback()
    field: Field | None = form._fields.get(exc.field or "") or (form._fields.get(fallback) if fallback else None)
    if field is None:
        form.form_errors.append(exc.message)
    else:
        field.errors = [*field.errors, exc.message]


def submitted_and_done(form: FlaskForm, fallback: str, operation: Callable[[], object]) -> bool:
    """Validate ``form`` and run ``operation``. A rule that refuses puts its Dutch message next
    to its field and nothing is kept. True when the change was made."""
    if not form.validate():
        return False
    try:
        operation()
    except DomainError as exc:
        show_domain_error(form, exc, fallback)
        return False
    return True
