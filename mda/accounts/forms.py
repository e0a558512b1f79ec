"""Forms of user administration. Each form declares exactly the fields it may write."""
from __future__ import annotations

from typing import Any

from ..forms import Form
from sqlalchemy import select
from wtforms import HiddenField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ..db import db
from ..organisations.models import Organisation
from ..security.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from .models import Role, User

NO_ORGANISATION = 0


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _password_validators() -> list[Any]:
    return [DataRequired("Vul een wachtwoord in."),
            Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
                   message=f"Een wachtwoord heeft minstens {MIN_PASSWORD_LENGTH} en hoogstens "
                           f"{MAX_PASSWORD_LENGTH} tekens. Een zin van een paar woorden werkt goed.")]


class _AccountFields(Form):
    display_name = StringField("Naam", validators=[DataRequired("Vul een naam in."),
                                                   Length(max=120, message="Een naam heeft hoogstens 120 tekens.")])
    organisation = SelectField("Organisatie", coerce=int,
                               invalid_value_message="Kies een organisatie uit de lijst.",
                               invalid_choice_message="Kies een organisatie uit de lijst.")
    roles = MultiCheckboxField("Rollen", choices=Role.choices(),
                               validators=[DataRequired("Kies minstens één rol.")],
                               invalid_value_message="Kies rollen uit de lijst.",
                               invalid_choice_message="Kies rollen uit de lijst.")

    def offer_organisations(self, current: Organisation | None = None) -> None:
        """Active organisations only; an account's current (inactive) organisation stays selectable
        so that saving a name does not silently move the account."""
        organisations = db.session.scalars(
            select(Organisation).where(Organisation.active.is_(True)).order_by(Organisation.name)).all()
        if current is not None and current not in organisations:
            organisations = [*organisations, current]
        self.organisation.choices = [SelectChoice(str(NO_ORGANISATION), "Geen organisatie")] + [
            SelectChoice(str(organisation.id), organisation.name) for organisation in organisations]

    def chosen_organisation(self) -> Organisation | None:
        if not self.organisation.data:
            return None
        return db.session.get(Organisation, self.organisation.data)

    def chosen_roles(self) -> list[Role]:
        return [Role(code) for code in self.roles.data or []]


class CreateUserForm(_AccountFields):
    username = StringField("Gebruikersnaam", validators=[
        DataRequired("Vul een gebruikersnaam in."),
        Length(max=80, message="Een gebruikersnaam heeft hoogstens 80 tekens."),
        Regexp(r"^[A-Za-z0-9._-]+$", message="Gebruik alleen letters, cijfers, punt, streepje of liggend streepje."),
    ])
    password = PasswordField("Eerste wachtwoord", validators=_password_validators())


class EditUserForm(_AccountFields):
    @classmethod
    def for_user(cls, user: User, **kwargs: Any) -> "EditUserForm":
        """Prefilled from the account; submitted form data, when there is any, takes precedence."""
        form = cls(**kwargs, data={"display_name": user.display_name,
                                   "organisation": user.organisation_id or NO_ORGANISATION,
                                   "roles": sorted(str(role) for role in user.role_set)})
        form.offer_organisations(user.organisation)
        return form


class SetActiveForm(Form):
    active = HiddenField(validators=[AnyOf(["0", "1"], message="Ongeldige keuze.")])


class ResetMfaForm(Form):
    pass


class ResetPasswordForm(Form):
    password = PasswordField("Nieuw wachtwoord", validators=_password_validators())
