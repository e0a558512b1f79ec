from __future__ import annotations

from flask import Blueprint

from ..security.policy import Permission, requires

blueprint = Blueprint("home", __name__)

# The start page offers what the policy lets this user reach (endpoint, permission, title, text).
START_LINKS = [
    ("cases.index", "caseload:own", "Casussen", "Mijn casussen: fase, AVE-niveau, deadlines en aandachtspunten."),
    ("huisverbod.overview", "house-bans:overview", "Huisverboden", "Lopende huisverboden op volgorde van resterende tijd."),
    ("referrals.triage_index", "referral:triage", "Triage", "Ingediende verwijzingen van Veilig Thuis beoordelen."),
    ("referrals.index", "referral:create", "Verwijzingen", "Een gezin verwijzen na het Actie-overleg en de status volgen."),
    ("referrals.consultations_index", "consultation:record", "Consultvragen", "Vragen van lokale teams en het gegeven advies."),
    ("metrics.releases", "metrics:view", "Stuurinformatie", "Geanonimiseerde cijfers over de pilot."),
    ("admin_users.index", "users:manage", "Gebruikers", "Accounts, rollen en tweestapsverificatie."),
    ("reference.index", "reference:manage", "Referentiegegevens", "Organisaties, AVE-niveaus, disciplines en gemeenten."),
    ("audit.search", "audit:view", "Audittrail", "Wie zag of wijzigde welke gegevens, en wanneer."),
    ("lifecycle.index", "audit:view", "Privacyverzoeken", "Inzage- en verwijderverzoeken, bewaartermijnen."),
]


@blueprint.route("/")
@requires(Permission.SIGNED_IN)
def index() -> str:
    # The start page says what needs the user today; the worklist area gathers it.
    from ..worklist.views import start_page
    return start_page()
