from __future__ import annotations

from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..forms import Form
from ..security.passwords import MAX_PASSWORD_LENGTH


class LoginForm(Form):
    username = StringField("Gebruikersnaam", validators=[DataRequired("Vul uw gebruikersnaam in."),
                                                          Length(max=80, message="Hoogstens 80 tekens.")])
    password = PasswordField("Wachtwoord", validators=[DataRequired("Vul uw wachtwoord in."),
                                                        Length(max=MAX_PASSWORD_LENGTH,
                                                               message=f"Hoogstens {MAX_PASSWORD_LENGTH} tekens.")])


class CodeForm(Form):
    code = StringField("Code uit uw authenticator-app",
                       validators=[DataRequired("Vul de code van 6 cijfers in."), Length(max=12, message="Hoogstens 12 tekens.")])
