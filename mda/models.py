"""Imports every model module so the metadata is complete (for Alembic and the app)."""
from .accounts.models import Role, User, UserRole  # noqa: F401
from .audit.models import AuditChainHead, AuditEvent  # noqa: F401
from .auth.models import FormDraft, LoginSession  # noqa: F401
from .cases.models import (AveChange, Case, CaseReferenceCounter, CaseStatusChange,  # noqa: F401
                          CaseViolenceForm, PhaseChange)
from .huisverbod.models import (HouseBan, HouseBanAppeal, HouseBanBreach,  # noqa: F401
                                HouseBanProtectedPerson)
from .journal.models import JournalEntry, JournalEntryPerson, ParticipationRecord, Task  # noqa: F401
from .documents.models import Attachment, AttachmentChunk  # noqa: F401
from .lifecycle.models import AccessRequest, ErasureRequest  # noqa: F401
from .notifications.models import (Notification, NotificationPreference,  # noqa: F401
                                   NotificationSettings, OutboxMessage)
from .organisations.models import Organisation  # noqa: F401
from .people.models import Person, PersonRelation  # noqa: F401
from .reference.models import AveLevel, Discipline, Municipality, PilotPeriod  # noqa: F401
from .metrics.models import Release  # noqa: F401
from .outcomes.models import ClosureOutcome, FollowUpCheck  # noqa: F401
from .referrals.models import ConsultationQuestion, Referral  # noqa: F401
from .safety.models import Assessment, SafetyPlan  # noqa: F401
from .teams.models import TeamMembership  # noqa: F401
from .worker.models import JobLease  # noqa: F401
from .cases import deadlines  # keeps cases.next_deadline current on every flush
from .huisverbod.queries import next_deadline_dates as _house_ban_deadlines
from .db import Base

metadata = Base.metadata

# A running huisverbod's legal deadlines count in the stored next deadline the caseload sorts by
# (wired here, one level above both areas: the case core does not know orders).
deadlines.register_source(HouseBan, _house_ban_deadlines)
