from __future__ import annotations

from wtforms import DateField, SelectField
from wtforms.validators import DataRequired, Optional

from ..forms import Form, VersionedForm
from .models import TeamPhase


class CoordinatorForm(VersionedForm):
    coordinator = SelectField("Nieuwe coördinator", coerce=int, validators=[DataRequired("Kies een coördinator.")])


class ExpertForm(Form):
    user = SelectField("Expert", coerce=int, validators=[DataRequired("Kies een expert.")])
    discipline = SelectField("Discipline", validators=[DataRequired("Kies een discipline.")])
    team_phase = SelectField("Inzet", choices=TeamPhase.choices(), validators=[DataRequired("Kies de inzet.")])
    started_on = DateField("Vanaf", validators=[Optional()])


class EndMembershipForm(Form):
    pass
