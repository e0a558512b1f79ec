"""Enums with a stored code and a Dutch label, the one place labels for codes live."""
from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum as SAEnum
from wtforms.fields import SelectChoice


class LabelledEnum(str, enum.Enum):
    label: str

    def __new__(cls, value: str, label: str) -> "LabelledEnum":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    def __str__(self) -> str:
        return self.value

    @classmethod
    def choices(cls) -> list[SelectChoice]:
        """Options for a WTForms select (tuples are deprecated in WTForms 3.3)."""
        return [SelectChoice(member.value, member.label) for member in cls]


def enum_column_type(enum_class: type[enum.Enum], name: str) -> Any:
    """Stored as its code in a VARCHAR with a CHECK constraint, on SQLite and PostgreSQL alike."""
    return SAEnum(enum_class, name=name, native_enum=False, create_constraint=True,
                  values_callable=lambda members: [member.value for member in members],
                  length=max(len(member.value) for member in enum_class))
