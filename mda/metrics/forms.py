"""The period choice: a preset from the pilot's own periods, or whole months from and to."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from wtforms import SelectField
from wtforms.fields import DateField, SelectChoice
from wtforms.validators import Optional, ValidationError

from ..db import db
from ..forms import Form
from ..reference.models import PilotPeriod
from ..timeutil import today
from .queries import Period


class PeriodForm(Form):
    """Read from the query string (GET); carries no personal data, so no CSRF token is needed."""

    class Meta:
        csrf = False
        locales = ["nl"]

    periode = SelectField("Periode van de pilot", validators=[Optional()], default="")
    van = DateField("Van", validators=[Optional()])
    tot = DateField("Tot en met", validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        periods = db.session.scalars(select(PilotPeriod).order_by(PilotPeriod.starts_on, PilotPeriod.id)).all()
        self._periods = {str(p.id): p for p in periods}
        self.periode.choices = [SelectChoice("", "Eigen periode (van – tot en met)")] + [
            SelectChoice(str(p.id), f"{p.name} ({p.starts_on:%d-%m-%Y} – {p.ends_on:%d-%m-%Y})") for p in periods]

    def validate_tot(self, field: DateField) -> None:
        if self.van.data and field.data and field.data < self.van.data:
            raise ValidationError("De einddatum ligt vóór de begindatum.")
        if self.van.data and field.data and (field.data - self.van.data).days > 366 * 6:
            raise ValidationError("Kies een periode van hoogstens zes jaar.")

    def period(self) -> Period:
        """The chosen period; without a choice, the last twelve whole months up to today."""
        preset = self._periods.get(self.periode.data or "")
        if preset is not None:
            return Period(preset.starts_on, preset.ends_on, preset.name)
        end = today()
        if self.van.data and self.tot.data and not self.tot.errors:
            return Period(self.van.data, self.tot.data,
                          f"{self.van.data:%d-%m-%Y} – {self.tot.data:%d-%m-%Y}")
        start = date(end.year - 1, end.month, 1)
        return Period(start, end, f"{start:%d-%m-%Y} – {end:%d-%m-%Y}")

    def query_args(self) -> dict[str, str]:
        args = {}
        for name in ("periode", "van", "tot"):
            raw = self[name].raw_data
            if raw and raw[0]:
                args[name] = raw[0]
        return args
