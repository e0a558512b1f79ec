"""mda.forms.LongSelect writes the same HTML as WTForms' own select, only faster."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField
from wtforms.fields import SelectChoice

from mda.forms import Form as DutchForm, LongSelectField

PAIRS = [("", "Alle"), ("1", 'Jan <script>alert("x")</script> & Zn'), ("2", "Anna"), ("3", "")]


class Plain(Form):
    choice = SelectField(choices=[SelectChoice(value, label) for value, label in PAIRS])


class Long(Form):
    choice = LongSelectField()


def _long(data: dict) -> Long:
    form = Long(MultiDict(data))
    form.choice.choices = PAIRS
    return form


def test_same_markup_as_wtforms_escaped_and_selected() -> None:
    for data in ({}, {"choice": "1"}, {"choice": "2"}, {"choice": "3"}):
        attributes = {"class": "form-select", "aria-invalid": "true"}
        assert str(Plain(MultiDict(data)).choice(**attributes)) == str(_long(data).choice(**attributes))
    # WTForms' SelectChoice (as the caseload's fixed selects declare them) gives the same HTML too.
    for data in ({}, {"choice": "2"}):
        declared = _long(data)
        declared.choice.choices = [SelectChoice(value, label) for value, label in PAIRS]
        plain = Plain(MultiDict(data))
        assert str(declared.choice(**{"class": "form-select"})) == str(plain.choice(**{"class": "form-select"}))
    rendered = str(_long({"choice": "1"}).choice())
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert '<option selected value="1">' in rendered


class Filter(DutchForm):
    coordinator = LongSelectField("Coördinator", default="")


def test_long_select_field_lists_validates_and_refuses_in_dutch(app) -> None:  # noqa: ANN001
    choices = [("", "Alle"), ("7", "Jan <b>"), ("9", "Anna")]
    with app.test_request_context():
        chosen = Filter(MultiDict({"coordinator": "9"}), meta={"csrf": False})
        chosen.coordinator.choices = choices
        assert chosen.validate()
        rendered = str(chosen.coordinator())
        assert '<option selected value="9">Anna</option>' in rendered and "Jan &lt;b&gt;" in rendered
        unknown = Filter(MultiDict({"coordinator": "8"}), meta={"csrf": False})
        unknown.coordinator.choices = choices
        assert not unknown.validate()
        assert unknown.coordinator.errors == ["Ongeldige keuze."]
