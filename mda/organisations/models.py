"""Partner organisations of the MDA++ network (domain brief section 6)."""
from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..enums import LabelledEnum, enum_column_type


class OrganisationKind(LabelledEnum):
    MDA_TEAM = ("mda_team", "MDA++-team")
    VEILIG_THUIS = ("veilig_thuis", "Veilig Thuis")
    MUNICIPALITY = ("municipality", "Gemeente")
    SAFETY_HOUSE = ("safety_house", "(Zorg- en) Veiligheidshuis")
    POLICE = ("police", "Politie")
    PUBLIC_PROSECUTOR = ("public_prosecutor", "Openbaar Ministerie")
    SOCIAL_WORK = ("social_work", "Algemeen Maatschappelijk Werk")
    LOCAL_TEAM = ("local_team", "Lokaal team")
    MENTAL_HEALTH = ("mental_health", "Specialistische GGZ")
    ADDICTION_CARE = ("addiction_care", "Verslavingszorg")
    LVB_CARE = ("lvb_care", "LVB-zorg")
    PROBATION = ("probation", "Reclassering")
    MEDICAL = ("medical", "Medisch circuit")
    CHILD_PROTECTION_BOARD = ("child_protection_board", "Raad voor de Kinderbescherming")
    CERTIFIED_INSTITUTION = ("certified_institution", "Gecertificeerde Instelling")
    STEERING_GROUP = ("steering_group", "Stuurgroep")
    OTHER = ("other", "Overig")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_column_type(OrganisationKind, "organisation_kind"))
    active: Mapped[bool] = mapped_column(default=True)
