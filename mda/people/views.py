"""The client system of a case: persons, their roles and relations. Every view is audited.

Who is in the client system is casusregie (``CASE_DIRECT``): the coordinator records it;
seconded experts see it."""
from __future__ import annotations

from flask import Blueprint, abort
from werkzeug.wrappers import Response

from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..cases.operations import check_open, touch
from ..cases.queries import load_case, persons_of
from ..cases.tabs import render_case
from ..db import db
from ..errors import DomainError, InvalidInput, StaleVersion
from ..forms import saved, show_domain_error, submitted_and_done
from ..security.policy import Permission, current_account, may, requires
from .forms import PersonEditForm, PersonFields, RelationForm
from .identity import GenderCategory
from .models import Person, PersonRelation, PersonRole, RelationKind
from .operations import EDITABLE_FIELDS, add_person, relate, update_person

blueprint = Blueprint("people", __name__, url_prefix="/casussen/<int:case_id>/clientsysteem")


def _person_of(case: Case, person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None or person.case_id != case.id:
        abort(404)  # a person id from another case is treated as unknown
    return person


def _audit_reads(case: Case, persons: list[Person]) -> None:
    account = current_account()
    for person in persons:
        record(AuditAction.READ, by=account, case_id=case.id, person_id=person.id, object_type="person",
               object_id=person.id)


def _relation_form(persons: list[Person], blank: bool = False) -> RelationForm:
    form = RelationForm(formdata=None) if blank else RelationForm()
    choices = [(p.id, f"{p.name or 'Naam onbekend'} ({p.role.label})") for p in persons]
    form.person.choices = form.other_person.choices = choices
    return form


def _page(case: Case, status: int = 200, **forms: object) -> tuple[str, int]:
    persons = persons_of(case)
    _audit_reads(case, persons)
    relations = db.session.query(PersonRelation).join(Person, PersonRelation.person_id == Person.id) \
        .filter(Person.case_id == case.id).all()
    forms.setdefault("person_form", PersonFields(formdata=None))
    if "relation_form" not in forms:
        forms["relation_form"] = _relation_form(persons, blank=True)
    return render_case("people/index.html", case, "people.index", persons=persons, relations=relations,
                       may_edit=may(current_account(), Permission.CASE_DIRECT, case), **forms), status


@blueprint.route("/")
@requires(Permission.CASE_VIEW, load=load_case)
def index(target: Case, case_id: int) -> tuple[str, int]:
    return _page(target)


@blueprint.route("/personen", methods=["POST"])
@requires(Permission.CASE_DIRECT, load=load_case)
def create(target: Case, case_id: int) -> Response | tuple[str, int]:
    form = PersonFields()

    def add() -> None:
        check_open(target)
        add_person(target, role=PersonRole(form.role.data), gender=GenderCategory(form.gender.data),
                   by=current_account(), name=form.name.data, bsn=form.bsn.data,
                   date_of_birth=form.date_of_birth.data, address=form.address.data, phone=form.phone.data,
                   notes=form.notes.data)
        touch(target)

    if submitted_and_done(form, "name", add):
        return saved("De persoon is toegevoegd aan het cliëntsysteem.", ".index", "persoon-toevoegen",
                     case_id=target.id)
    return _page(target, 422, person_form=form)


@blueprint.route("/personen/<int:person_id>", methods=["GET", "POST"])
@requires(Permission.CASE_DIRECT, load=load_case)
def edit(target: Case, case_id: int, person_id: int) -> Response | tuple[str, int]:
    person = _person_of(target, person_id)
    form = PersonEditForm(obj=person, data={"version": person.version, "role": person.role.value,
                                            "gender": person.gender.value})
    conflict: list[tuple[str, str, str]] = []
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            submitted = {name: getattr(form, name).data for name in EDITABLE_FIELDS}
            try:
                changed = update_person(person, by=current_account(), expected_version=form.version.data,
                                        role=PersonRole(form.role.data), gender=GenderCategory(form.gender.data),
                                        **submitted)
            except StaleVersion as exc:
                db.session.rollback()
                db.session.refresh(person)
                # Show both versions: what is stored now beside what this user typed.
                conflict = [(getattr(form, name).label.text, _shown(getattr(person, name)), _shown(submitted[name]))
                            for name in EDITABLE_FIELDS if (submitted[name] or None) != getattr(person, name)]
                form.version.errors = [exc.message]
                form.version.data = person.version
            except DomainError as exc:
                show_domain_error(form, exc, "name")
            else:
                return saved("De gegevens zijn opgeslagen." if changed else "Er was niets gewijzigd.", ".index",
                             "personen", case_id=target.id)
    else:
        _audit_reads(target, [person])
    return render_case("people/edit.html", target, "people.index", person=person, form=form,
                       conflict=conflict), status


def _shown(value: object) -> str:
    if value is None or value == "":
        return "—"
    return value.strftime("%d-%m-%Y") if hasattr(value, "strftime") else str(value)


@blueprint.route("/relaties", methods=["POST"])
@requires(Permission.CASE_DIRECT, load=load_case)
def create_relation(target: Case, case_id: int) -> Response | tuple[str, int]:
    persons = persons_of(target)
    form = _relation_form(persons)

    def link() -> None:
        # The choices are this case's persons only, so an id from another case fails validation;
        # _person_of checks again in case the choice list changed in between.
        first, second = _person_of(target, form.person.data), _person_of(target, form.other_person.data)
        if first.id == second.id:
            raise InvalidInput("Kies twee verschillende personen.", field="other_person")
        relate(first, second, RelationKind(form.kind.data), by=current_account())

    if submitted_and_done(form, "person", link):
        return saved("De relatie is vastgelegd.", ".index", "relaties", case_id=target.id)
    return _page(target, 422, relation_form=form)
