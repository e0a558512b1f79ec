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


def test_rendered_fields_are_remembered_only_for_the_same_state(app, monkeypatch) -> None:  # noqa: ANN001
    """mda.forms.rendered_fields renders a fragment once per state of its form: the same data,
    errors and choices give the remembered HTML; any change to one of them renders anew."""
    from jinja2 import Template
    from mda.forms import rendered_fields
    renders = []

    class Counting(Template):  # counts the renders of the fragment the helper asks for
        def render(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
            renders.append(kwargs)
            return super().render(*args, **kwargs)

    fragment = "{{ form.coordinator() }}|{{ form.coordinator.errors|join(',') }}|{{ note }}"
    with app.test_request_context():
        monkeypatch.setattr(app.jinja_env, "get_template", lambda name: Counting(fragment))

        def render(data: dict, choices: list, note: str = "a") -> str:
            form = Filter(MultiDict(data), meta={"csrf": False})
            form.coordinator.choices = choices
            form.validate()
            return str(rendered_fields("test/fragment.html", form, note=note))

        choices = [("", "Alle"), ("7", "Jan <b>"), ("9", "Anna")]
        first = render({"coordinator": "9"}, choices)
        assert '<option selected value="9">Anna</option>' in first and "Jan &lt;b&gt;" in first
        assert render({"coordinator": "9"}, list(choices)) == first and len(renders) == 1
        assert '<option selected value="7">' in render({"coordinator": "7"}, choices)  # other data
        refused = render({"coordinator": "8"}, choices)  # an error
        assert "Ongeldige keuze." in refused
        assert "Piet" in render({"coordinator": "9"}, [*choices, ("11", "Piet")])  # other choices
        assert render({"coordinator": "9"}, choices, note="b").endswith("|b")  # other context
        assert len(renders) == 5
        assert render({"coordinator": "8"}, choices) == refused and len(renders) == 5


def test_rendered_fields_render_a_state_that_cannot_be_a_key(app, monkeypatch) -> None:  # noqa: ANN001
    from jinja2 import Template
    from wtforms import SelectMultipleField
    from mda.forms import rendered_fields

    class Several(DutchForm):
        codes = SelectMultipleField(choices=[SelectChoice("a", "A"), SelectChoice("b", "B")])

    with app.test_request_context():
        monkeypatch.setattr(app.jinja_env, "get_template", lambda name: Template("{{ form.codes() }}"))
        form = Several(MultiDict([("codes", "a"), ("codes", "b")]), meta={"csrf": False})
        html = str(rendered_fields("test/several.html", form))  # a list as data: rendered, not remembered
        assert html.count("selected") == 2
        assert not any(key[0] == "test/several.html" for key in app.extensions.get("mda.fragments", {}))
