"""Rules for identifying data: the BSN eleven-test, age bands and gender categories."""
from __future__ import annotations

import re
from datetime import date

from ..enums import LabelledEnum
from ..errors import InvalidInput


def normalise_bsn(value: str) -> str:
    """Digits only, nine long (an eight-digit BSN gets its leading zero back)."""
    digits = re.sub(r"[\s.\-]", "", str(value))
    if not digits.isdigit() or len(digits) not in (8, 9):
        raise InvalidInput("Een BSN bestaat uit 9 cijfers.", field="bsn")
    return digits.zfill(9)


def validate_bsn(value: str) -> str:
    """Normalise and apply the eleven-test (elfproef); raises InvalidInput with a Dutch message."""
    bsn = normalise_bsn(value)
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    total = sum(int(digit) * weight for digit, weight in zip(bsn, weights))
    if bsn == "000000000" or total % 11 != 0:
        raise InvalidInput("Dit BSN is ongeldig: het voldoet niet aan de elfproef. "
                           "Controleer de cijfers.", field="bsn")
    return bsn


def validate_birth_date(value: date) -> date:
    from ..timeutil import today

    if not isinstance(value, date):
        raise InvalidInput("Vul een geldige geboortedatum in.", field="date_of_birth")
    if value > today():
        raise InvalidInput("De geboortedatum ligt in de toekomst.", field="date_of_birth")
    if value.year < 1900:
        raise InvalidInput("De geboortedatum ligt voor 1900.", field="date_of_birth")
    return value


ADULT_AGE = 18  # Wet tijdelijk huisverbod art. 2(1): an order is imposed on an adult (meerderjarige)


def age_on(birth_date: date, day: date) -> int:
    """Whole years of age on ``day`` (a birthday on 29 February counts from 1 March in other years)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_adult_on(birth_date: date | None, day: date) -> bool | None:
    """Whether someone born on ``birth_date`` is an adult on ``day``; None when the birth date is unknown."""
    if birth_date is None:
        return None
    return age_on(birth_date, day) >= ADULT_AGE


class AgeBand(LabelledEnum):
    """Coarse age groups kept in the clear for the metrics; never the birth date itself."""

    UNDER_4 = ("0-3", "0 tot 4 jaar")
    AGE_4_11 = ("4-11", "4 tot 12 jaar")
    AGE_12_17 = ("12-17", "12 tot 18 jaar")
    AGE_18_24 = ("18-24", "18 tot 25 jaar")
    AGE_25_44 = ("25-44", "25 tot 45 jaar")
    AGE_45_64 = ("45-64", "45 tot 65 jaar")
    AGE_65_PLUS = ("65+", "65 jaar en ouder")
    UNKNOWN = ("unknown", "Onbekend")

    @classmethod
    def for_birth_date(cls, birth_date: date | None, on: date) -> "AgeBand":
        if birth_date is None:
            return cls.UNKNOWN
        age = age_on(birth_date, on)
        for band, upper in ((cls.UNDER_4, 4), (cls.AGE_4_11, 12), (cls.AGE_12_17, 18),
                            (cls.AGE_18_24, 25), (cls.AGE_25_44, 45), (cls.AGE_45_64, 65)):
            if age < upper:
                return band
        return cls.AGE_65_PLUS

    @property
    def is_adult(self) -> bool | None:
        if self is AgeBand.UNKNOWN:
            return None
        return self not in (AgeBand.UNDER_4, AgeBand.AGE_4_11, AgeBand.AGE_12_17)


class GenderCategory(LabelledEnum):
    FEMALE = ("female", "Vrouw")
    MALE = ("male", "Man")
    OTHER = ("other", "Anders")
    UNKNOWN = ("unknown", "Onbekend")
