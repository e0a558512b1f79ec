"""Shared form machinery: Dutch built-in messages and domain errors shown at their field."""
from __future__ import annotations

import re
from typing import Any, Callable

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, IntegerField, SelectField
from wtforms.fields.choices import Choice, SelectChoice, SelectFieldBase
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import HiddenInput, Select, html_params
from wtforms.widgets.core import clean_key
from werkzeug.wrappers import Response

from .db import db
from .errors import DomainError

LONG_TEXT = 5000   # free text longer than this is refused, not truncated
SHORT_TEXT = 200

# Every id column is an Integer: on PostgreSQL a 32-bit int4; the app keeps SQLite to the same range.
MAX_ID = 2**31 - 1
MIN_INTEGER = -(2**31)
# C0 and C1 control characters and DEL, except tab, line feed and carriage return: never typed on
# purpose, invisible on the page, and NUL is refused by PostgreSQL in any text value.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_CHARACTER_MESSAGE = ("Dit veld bevat een onzichtbaar stuurteken (bijvoorbeeld uit een gekopieerde tekst). "
                             "Typ de tekst opnieuw of verwijder het teken.")
NUMBER_OUT_OF_RANGE_MESSAGE = "Dit getal is te groot of te klein."
HIDDEN_FIELD_MESSAGE = "Het formulier is onvolledig of ongeldig; laad de pagina opnieuw."


def _html_params(**kwargs: Any) -> Markup:
    """WTForms' ``html_params`` with the same output (keys sorted and cleaned, ``True`` a bare
    attribute, ``False`` left out, values escaped), built with plain string joins: WTForms writes each
    attribute through ``Markup.format``, whose escaping formatter runs in pure Python and was about a
    sixth of the caseload page's time (seven filter fields, a few dozen options).
    ``tests/test_form_mechanics.py`` holds it to the original's output."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = clean_key(key)
        if value is True:
            params.append(str(escape(key)))
        elif value is not False:
            # A value that is already Markup is not escaped again; its quotes still are, as WTForms does.
            params.append(f'{escape(key)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


def use_fast_html_params() -> None:
    """Every WTForms widget and label gets its attributes from ``_html_params`` (a module-level
    function and two class attributes in ``wtforms.widgets.core``, re-exported by ``wtforms.widgets``)."""
    from wtforms import widgets
    from wtforms.widgets import core
    core.html_params = widgets.html_params = _html_params
    core.Input.html_params = core.Button.html_params = staticmethod(_html_params)


WTFORMS_HTML_PARAMS = html_params  # the original, for the test that holds ours to it
use_fast_html_params()


def has_control_characters(value: Any) -> bool:
    """True for text holding a control character other than tab, line feed or carriage return."""
    return isinstance(value, str) and CONTROL_CHARACTERS.search(value) is not None


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
        from flask import has_request_context
        if has_request_context():
            from .auth.resume import restore_into
            restore_into(self)  # text typed when the session ended comes back in its form

    def validate(self, extra_validators: Any = None) -> bool:
        """Every form's input first passes two checks that hold for every field: no control
        characters and whole numbers within the range of an integer column. A field that fails
        them gets that message and none of its own validators runs (they may query the database
        with the value); the other fields are still checked, so every message is shown at once."""
        refused = {field.name for field in self if _refuse_raw_input(self, field)}
        if not refused:
            return super().validate(extra_validators)
        for field in self:
            if field.name in refused:
                continue
            extra = list((extra_validators or {}).get(field.name, ()))
            inline = getattr(self.__class__, f"validate_{field.name}", None)
            field.validate(self, [*extra, inline] if inline is not None else extra)
        return False


def _refuse_raw_input(form: FlaskForm, field: Field) -> bool:
    message = None
    # A choice field refuses a control character itself: it is not one of its choices, and the
    # check is made in Python, so its own message (next to the field) says so.
    is_choice = isinstance(field, SelectFieldBase) and getattr(field, "validate_choice", True)
    if not is_choice and any(has_control_characters(value) for value in field.raw_data or ()):
        message = CONTROL_CHARACTER_MESSAGE
    elif isinstance(field, IntegerField) and isinstance(field.data, int) \
            and not MIN_INTEGER <= field.data <= MAX_ID:
        message = NUMBER_OUT_OF_RANGE_MESSAGE
    if message is None:
        return False
    if isinstance(field.widget, HiddenInput) or field.type in ("HiddenField", "CSRFTokenField"):
        # A hidden field has no place on the page to show its message: say it at the top of the page.
        from flask import flash
        flash(HIDDEN_FIELD_MESSAGE)
        message = HIDDEN_FIELD_MESSAGE
    field.errors = [message]
    return True


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


def flash_form_errors(*forms: FlaskForm) -> None:
    """Also say a refused form's messages at the top of the page: a form posted from a stale page
    may not be shown in the record's present state (a case closed meanwhile hides its forms)."""
    from flask import flash
    for form in forms:
        for errors in form.errors.values():  # the form's own messages are under the key None
            for message in errors:
                if isinstance(message, str):
                    flash(message, "error")


def saved(message: str, endpoint: str, anchor: str | None = None, **values: object) -> Response:
    """Post/redirect/get back to the place of work: the confirmation is shown at the section
    ``anchor`` of the page (the template's ``form_feedback(form, anchor)``), where the browser
    lands; without an anchor, at the top of the page."""
    from flask import flash, redirect, url_for
    flash(message, f"success#{anchor}" if anchor else "success")
    return redirect(url_for(endpoint, _anchor=anchor, **values))


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


class LongSelect(Select):
    """The widget of ``LongSelectField``: the options written in one pass over the plain choices.
    WTForms builds each option through ``html_params`` and a normalised ``Choice``; with hundreds
    of coordinators that took longer than the rest of the caseload page. Same HTML."""

    def __call__(self, field, **kwargs) -> Markup:  # noqa: ANN001, ANN003
        if not isinstance(field, LongSelectField):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        for flag in self.validation_attrs:
            if flag not in kwargs and getattr(field.flags, flag, False):
                kwargs[flag] = getattr(field.flags, flag)
        data, coerce = field.data, field.coerce
        options = "".join(
            f'<option {"selected " if coerce(value) == data else ""}value="{escape(value)}">'
            f"{escape(label or value)}</option>" for value, label in field.pairs())
        return Markup(f"<select {_html_params(name=field.name, **kwargs)}>{options}</select>")


class LongSelectField(SelectField):
    """A select of many plain ``(value, label)`` string choices (the caseload's coordinators,
    hundreds at national scale). WTForms 3.3 normalises every choice on each of its three passes
    (validate, list, render); this validates with a set lookup and renders in one pass."""

    widget = LongSelect()

    def pairs(self) -> list[tuple[str, str]]:
        """The choices as (value, label): plain pairs, or WTForms' ``SelectChoice`` without
        attributes or groups of its own (this widget writes neither)."""
        pairs = []
        for choice in self.choices or ():
            if isinstance(choice, SelectChoice):
                if choice.render_kw or choice.optgroup:
                    raise ValueError("LongSelectField writes no option attributes or groups")
                choice = (choice.value, choice.label)
            pairs.append(choice)
        return pairs

    def iter_choices(self) -> list[Choice]:
        data = self.data
        return [Choice(value, label, self.coerce(value) == data, None) for value, label in self.pairs()]

    def has_groups(self) -> bool:
        return False

    def pre_validate(self, form) -> None:  # noqa: ANN001
        if self.process_errors or not self.validate_choice:
            return
        if self.data not in {self.coerce(value) for value, _label in self.pairs()}:
            raise ValidationError(self.invalid_choice_message or self.gettext("Not a valid choice."))


def rendered_fields(template_name: str, form: FlaskForm, **context: Any) -> Markup:
    """``template_name`` rendered with ``form`` and ``context``: a fragment that shows only
    ``form``'s fields, remembered per worker (``mda.fragments``) by what it depends on: the form's
    class, each field's id, data, errors and choices, and ``context`` (hashable values). The
    caseload's filter renders the same seven fields on nearly every request, and writing them was
    an eighth of its work. A form whose state cannot be a key (a list as data) is simply rendered."""
    from .fragments import remembered
    try:
        key: object = (type(form), _fields_state(form), tuple(sorted(context.items())))
    except TypeError:
        key = []  # not hashable: rendered, not remembered
    return remembered(template_name, key, form=form, **context)


def _fields_state(form: FlaskForm) -> tuple[object, ...]:
    return tuple((field.id, field.data, tuple(field.errors), _choices_state(field)) for field in form)


def _choices_state(field: Field) -> tuple[object, ...] | None:
    choices = getattr(field, "choices", None)
    if choices is None:
        return None
    if callable(choices) or isinstance(choices, dict):  # a callable or grouped choices: no key
        raise TypeError("choices that cannot be a key")
    return tuple((choice.value, choice.label, tuple(sorted(choice.render_kw.items())), choice.optgroup)
                 if isinstance(choice, SelectChoice) else choice for choice in choices)
