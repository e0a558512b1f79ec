"""The client system (cliëntsysteem): the persons in a case and how they relate.

Identifying fields are encrypted and bound to their row; role, age band and
gender category are kept in the clear because the metrics count them.

The stored age band is the age on the day the person's case was opened (``cases.opened_on``),
so it means the same for every person however late their data was entered or corrected. A
person of a referral that is not a case yet gets the age on the day it is entered, replaced
by the age at case opening when the referral is accepted. Rules that depend on the age at
another moment (a huisverbod needs an adult at imposition) compute it from the date of birth.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from ..enums import LabelledEnum, enum_column_type
from ..security.fields import EncryptedField, RowKeyMixin, blind_index, ciphertext_column
from ..timeutil import today
from .identity import AgeBand, GenderCategory, validate_birth_date, validate_bsn


class PersonRole(LabelledEnum):
    UNDERGOING_VIOLENCE = ("undergoing_violence", "Slachtoffer (ondergaat geweld)")
    USING_VIOLENCE = ("using_violence", "Pleger (pleegt geweld)")
    CHILD = ("child", "Kind")
    OTHER_INVOLVED = ("other_involved", "Overig betrokkene")


class RelationKind(LabelledEnum):
    PARTNER = ("partner", "Partner")
    EX_PARTNER = ("ex_partner", "Ex-partner")
    PARENT_OF = ("parent_of", "Ouder van")
    STEP_PARENT_OF = ("step_parent_of", "Stiefouder van")
    SIBLING = ("sibling", "Broer/zus")
    GRANDPARENT_OF = ("grandparent_of", "Grootouder van")
    CARER_OF = ("carer_of", "Mantelzorger van")
    HOUSEMATE = ("housemate", "Huisgenoot")
    OTHER = ("other", "Andere relatie")

    @property
    def phrase(self) -> str:
        """The middle of a sentence "<person> <phrase> <other person>"."""
        return _RELATION_PHRASES[self.value]


_RELATION_PHRASES = {
    "partner": "is partner van", "ex_partner": "is ex-partner van", "parent_of": "is ouder van",
    "step_parent_of": "is stiefouder van", "sibling": "is broer of zus van", "grandparent_of": "is grootouder van",
    "carer_of": "is mantelzorger van", "housemate": "is huisgenoot van", "other": "heeft een andere relatie met",
}


class Person(RowKeyMixin, Base):
    __tablename__ = "persons"
    __table_args__ = (
        CheckConstraint("case_id IS NOT NULL OR referral_id IS NOT NULL", name="belongs_somewhere"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A person enters through a referral and stays on it when the case is created from it.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    role: Mapped[PersonRole] = mapped_column(enum_column_type(PersonRole, "person_role"))
    age_band: Mapped[AgeBand] = mapped_column(enum_column_type(AgeBand, "age_band"), default=AgeBand.UNKNOWN)
    gender: Mapped[GenderCategory] = mapped_column(enum_column_type(GenderCategory, "gender_category"),
                                                   default=GenderCategory.UNKNOWN)

    name_ciphertext: Mapped[bytes | None] = ciphertext_column()
    bsn_ciphertext: Mapped[bytes | None] = ciphertext_column()
    date_of_birth_ciphertext: Mapped[bytes | None] = ciphertext_column()
    address_ciphertext: Mapped[bytes | None] = ciphertext_column()
    phone_ciphertext: Mapped[bytes | None] = ciphertext_column()
    notes_ciphertext: Mapped[bytes | None] = ciphertext_column()

    name = EncryptedField(after_set="_refresh_search_keys")
    bsn = EncryptedField(validate=validate_bsn, after_set="_refresh_search_keys")
    date_of_birth = EncryptedField(kind=date, validate=validate_birth_date, after_set="_refresh_search_keys")
    address = EncryptedField()
    phone = EncryptedField()
    notes = EncryptedField()

    # Blind indexes: look a person up by BSN, or by name plus birth date, without decrypting.
    bsn_index: Mapped[str | None] = mapped_column(String(64), index=True)
    name_birth_index: Mapped[str | None] = mapped_column(String(64), index=True)

    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    relations: Mapped[list["PersonRelation"]] = relationship(
        foreign_keys="PersonRelation.person_id", cascade="all, delete-orphan", back_populates="person")

    def _refresh_search_keys(self) -> None:
        for column, value in self.derived_values(self.age_reference_day()).items():
            setattr(self, column, value)

    def derived_values(self, reference_day: date) -> dict[str, object]:
        """The plain columns computed from the encrypted ones: the blind-index values and the
        age band on ``reference_day``. Decrypts; the caller audits."""
        index = blind_index()
        bsn, name, birth_date = self.bsn, self.name, self.date_of_birth
        return {"bsn_index": index.bsn(bsn) if bsn else None,
                "name_birth_index": index.name_and_birth_date(name, birth_date) if name and birth_date else None,
                "age_band": AgeBand.for_birth_date(birth_date, reference_day)}

    def age_reference_day(self) -> date:
        """The day the stored age band is the age on: the case's opening day (see the module doc)."""
        if self.case_id is not None:
            from ..cases.models import Case
            from ..db import db
            with db.session.no_autoflush:  # called from attribute setters, mid-change
                case = db.session.get(Case, self.case_id)  # usually loaded already: no query
            if case is not None and case.opened_on is not None:
                return case.opened_on
        return today()

    def refresh_age_band(self) -> None:
        """Recompute the stored age band, e.g. after the person moved from a referral into a case."""
        self.age_band = AgeBand.for_birth_date(self.date_of_birth, self.age_reference_day())


class PersonRelation(Base):
    """How one person relates to another in the same client system ("person is <kind> other")."""

    __tablename__ = "person_relations"
    __table_args__ = (
        UniqueConstraint("person_id", "other_person_id", "kind"),
        CheckConstraint("person_id <> other_person_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    other_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RelationKind] = mapped_column(enum_column_type(RelationKind, "relation_kind"))

    person: Mapped[Person] = relationship(foreign_keys=[person_id], back_populates="relations")
    other_person: Mapped[Person] = relationship(foreign_keys=[other_person_id])
