"""The JSON API through which a Veilig Thuis registration system submits referrals.

``POST /api/v1/verwijzingen`` with ``Authorization: Bearer <key>``; the key is issued per
organisation by the functional administrator and can be revoked. No session, cookie or CSRF
token plays a part: the key is the only credential, and the referral belongs to the key's
organisation. The payload is checked as strictly as the web form (unknown keys, types, lengths,
enum values, the BSN eleven-test, an Actie-overleg date not in the future); every error is
answered in Dutch with the field it concerns, and nothing is written. Every call, accepted or
refused, is audited without the key or any personal data; calls are rate-limited per address.
"""
from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from ..audit.models import AuditAction, AuditOutcome
from ..audit.trail import record
from ..auth.throttle import limiter
from ..cases.models import ViolenceForm
from ..db import db
from ..errors import InvalidInput
from ..forms import has_control_characters
from ..organisations.models import Organisation, OrganisationKind
from ..people.identity import GenderCategory, validate_birth_date, validate_bsn
from ..people.models import PersonRole
from ..reference.models import Municipality
from . import operations, tokens
from .models import ActieOverlegPartner, ApiToken, HouseBanSituation, Urgency

api_blueprint = Blueprint("referrals_api", __name__, url_prefix="/api/v1")

API_LIMIT = "30 per minute;300 per hour"
MAX_BODY_BYTES = 256 * 1024
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

TOP_LEVEL = {"intake_route", "actie_overleg_on", "partners_present", "reason", "urgency", "violence_forms",
             "municipality", "requesting_team", "current_ave_level", "house_ban_situation", "tried_before",
             "family_label", "persons", "submit"}
PERSON_KEYS = {"role", "name", "bsn", "date_of_birth", "address", "phone", "gender"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, str]] | None = None,
                 audit_detail: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []
        self.audit_detail = audit_detail or f"API geweigerd: {code}"


# --- authentication -----------------------------------------------------------------------------

def _authenticate() -> ApiToken:
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise ApiError(401, "unauthorized", "Geen API-sleutel ontvangen. Stuur de sleutel mee in de kop "
                                            "'Authorization: Bearer <sleutel>'.", audit_detail="API: geen sleutel")
    token = tokens.find_token(presented.strip())
    if token is None:
        raise ApiError(401, "unauthorized", "Deze API-sleutel is onbekend. Controleer de sleutel of vraag de "
                                            "functioneel beheerder om een nieuwe.",
                       audit_detail="API: onbekende sleutel")
    if token.revoked_at is not None:
        raise ApiError(401, "token_revoked", "Deze API-sleutel is ingetrokken. Vraag de functioneel beheerder om "
                                             "een nieuwe.", audit_detail="API: ingetrokken sleutel")
    if not token.organisation.active:
        raise ApiError(401, "unauthorized", "De organisatie van deze API-sleutel is niet meer actief.",
                       audit_detail="API: organisatie niet actief")
    return token


# --- reading and checking the payload -----------------------------------------------------------

def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate key")
        result[key] = value
    return result


def _refuse_constant(_name: str) -> Any:
    raise ValueError("NaN or Infinity")


def _read_json() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise ApiError(400, "bad_request", "Stuur de verwijzing als JSON, met 'Content-Type: application/json'.")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", f"De verwijzing is te groot: hoogstens {MAX_BODY_BYTES // 1024} kB.")
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", f"De verwijzing is te groot: hoogstens {MAX_BODY_BYTES // 1024} kB.")
    try:
        payload = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicates,
                             parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "bad_request", "De inhoud is geen geldige JSON (UTF-8, geen dubbele sleutels).",
                       audit_detail="API: geen geldige JSON") from None
    except RecursionError:
        # json's parser recurses once per nesting level: a body of 50,000 '[' exhausts the stack.
        raise ApiError(400, "bad_request", "De inhoud is te diep genest om als verwijzing te lezen.",
                       audit_detail="API: te diep geneste JSON") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "bad_request", "De verwijzing moet een JSON-object zijn.",
                       audit_detail="API: geen JSON-object")
    return payload


class _Checker:
    """Collects every problem in the payload, so the caller can fix them in one go."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def error(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def text(self, data: dict[str, Any], key: str, path: str, limit: int, *, required: bool = False) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.error(path, "Dit veld is verplicht.")
            return None
        if not isinstance(value, str):
            self.error(path, "Verwacht tekst.")
            return None
        if not _encodable(value):
            self.error(path, "Deze tekst bevat ongeldige tekens (een losse UTF-16-surrogaat).")
            return None
        if has_control_characters(value):
            self.error(path, "Deze tekst bevat een stuurteken (zoals NUL of BEL); alleen regeleinden en "
                             "tabs zijn toegestaan.")
            return None
        if required and not value.strip():
            self.error(path, "Dit veld is verplicht.")
            return None
        if len(value.strip()) > limit:
            self.error(path, f"Deze tekst is te lang: hoogstens {limit} tekens, nu {len(value.strip())}.")
            return None
        return value

    def choice(self, data: dict[str, Any], key: str, path: str, allowed: list[str]) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or value not in allowed:
            self.error(path, "Ongeldige waarde. Toegestaan: " + ", ".join(allowed) + ".")
            return None
        return value

    def choices(self, data: dict[str, Any], key: str, path: str, allowed: list[str]) -> list[str] | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.error(path, "Verwacht een lijst met codes.")
            return None
        wrong = [item for item in value if item not in allowed]
        if wrong:
            self.error(path, "Ongeldige waarde(n): " + ", ".join(wrong[:5]) + ". Toegestaan: "
                       + ", ".join(allowed) + ".")
            return None
        return value

    def day(self, data: dict[str, Any], key: str, path: str) -> date | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not ISO_DATE.match(value):
            self.error(path, "Verwacht een datum als JJJJ-MM-DD.")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.error(path, "Deze datum bestaat niet.")
            return None

    def validated(self, path: str, check: Any, value: Any) -> Any:
        try:
            return check(value)
        except InvalidInput as exc:
            self.error(path, exc.message)
            return None


def _encodable(value: str) -> bool:
    # JSON may carry a lone surrogate ("\\ud800"); it cannot be encoded as UTF-8 and so not encrypted.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _codes(members: Any) -> list[str]:
    return [member.value for member in members]


def _by_name(model: Any, name: str | None, path: str, checker: _Checker, **filters: Any) -> Any:
    if name is None:
        return None
    found = db.session.scalars(select(model).where(func.lower(model.name) == name.strip().lower(),
                                                   model.active.is_(True),
                                                   *[getattr(model, k) == v for k, v in filters.items()])).first()
    if found is None:
        checker.error(path, "Onbekende naam; gebruik de naam precies zoals in het MDA++-systeem.")
    return found


def check_payload(payload: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
    """The referral fields, the persons and whether to submit; ApiError(422) lists every problem."""
    c = _Checker()
    for key in sorted(set(payload) - TOP_LEVEL):
        c.error(key, "Onbekend veld.")
    limits = operations.MAX_LENGTH
    fields: dict[str, Any] = {}
    route = c.choice(payload, "intake_route", "intake_route", _codes(operations.REFERRAL_ROUTES))
    if route is not None:
        fields["intake_route"] = route
    overleg = c.day(payload, "actie_overleg_on", "actie_overleg_on")
    if overleg is not None:
        fields["actie_overleg_on"] = c.validated("actie_overleg_on", operations.validate_actie_overleg_date, overleg)
    for key, enum_class in (("partners_present", ActieOverlegPartner), ("violence_forms", ViolenceForm)):
        value = c.choices(payload, key, key, _codes(enum_class))
        if value is not None:
            fields[key] = value
    for key in ("reason", "tried_before", "family_label"):
        value = c.text(payload, key, key, limits[key])
        if value is not None:
            fields[key] = value
    for key, enum_class in (("urgency", Urgency), ("house_ban_situation", HouseBanSituation)):
        value = c.choice(payload, key, key, _codes(enum_class))
        if value is not None:
            fields[key] = value
    municipality = c.text(payload, "municipality", "municipality", 80)
    if municipality is not None:
        fields["municipality"] = _by_name(Municipality, municipality, "municipality", c)
    team = c.text(payload, "requesting_team", "requesting_team", 120)
    if team is not None:
        fields["requesting_team"] = _by_name(Organisation, team, "requesting_team", c,
                                             kind=OrganisationKind.LOCAL_TEAM)
    level = payload.get("current_ave_level")
    if level is not None:
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
            c.error("current_ave_level", "Een AVE-niveau is een geheel getal van 1 tot en met 5.")
        else:
            fields["current_ave_level"] = level
    submit_now = payload.get("submit", True)
    if not isinstance(submit_now, bool):
        c.error("submit", "Verwacht true of false.")
    persons = _check_persons(payload.get("persons"), c)
    if c.errors:
        raise ApiError(422, "invalid_payload", f"De verwijzing is niet opgeslagen: {len(c.errors)} "
                       f"{'fout' if len(c.errors) == 1 else 'fouten'} in de invoer.", c.errors,
                       audit_detail=f"API: ongeldige invoer ({len(c.errors)})")
    return fields, persons, bool(submit_now)


def _check_persons(value: Any, c: _Checker) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        c.error("persons", "Verwacht een lijst met personen.")
        return []
    if len(value) > operations.MAX_PERSONS:
        c.error("persons", f"Hoogstens {operations.MAX_PERSONS} personen per verwijzing.")
        return []
    persons = []
    limits = operations.MAX_LENGTH
    for index, item in enumerate(value):
        path = f"persons[{index}]"
        if not isinstance(item, dict):
            c.error(path, "Verwacht een object met de gegevens van één persoon.")
            continue
        before = len(c.errors)
        for key in sorted(set(item) - PERSON_KEYS):
            c.error(f"{path}.{key}", "Onbekend veld.")
        if item.get("role") is None:
            c.error(f"{path}.role", "Geef de rol van deze persoon in het cliëntsysteem.")
        role = c.choice(item, "role", f"{path}.role", _codes(PersonRole))
        name = c.text(item, "name", f"{path}.name", limits["name"], required=True)
        bsn = c.text(item, "bsn", f"{path}.bsn", 20)
        if bsn is not None:
            c.validated(f"{path}.bsn", validate_bsn, bsn)
        born = c.day(item, "date_of_birth", f"{path}.date_of_birth")
        if born is not None:
            c.validated(f"{path}.date_of_birth", validate_birth_date, born)
        address = c.text(item, "address", f"{path}.address", limits["address"])
        phone = c.text(item, "phone", f"{path}.phone", limits["phone"])
        if phone is not None and not operations.PHONE_PATTERN.match(phone.strip()):
            c.error(f"{path}.phone", "Alleen cijfers, spaties, streepjes of een + vooraan.")
        gender = c.choice(item, "gender", f"{path}.gender", _codes(GenderCategory))
        if len(c.errors) == before:
            persons.append({"role": role, "name": name, "bsn": bsn, "date_of_birth": born, "address": address,
                            "phone": phone, "gender": gender})
    return persons


# --- the endpoint -------------------------------------------------------------------------------

def _refuse(exc: ApiError, token: ApiToken | None) -> tuple[Response, int]:
    """Nothing of the request is kept except the audit record of the refusal."""
    db.session.rollback()
    outcome = AuditOutcome.DENIED if exc.status in (401, 429) else AuditOutcome.FAILED
    record(AuditAction.CREATE, by=None, username=f"api-sleutel {token.id}" if token else "api (geen geldige sleutel)",
           object_type="referral", outcome=outcome, detail=exc.audit_detail[:200])
    db.session.commit()  # the error status rolls the request back; the audit record must stay
    body = {"error": exc.code, "message": exc.message}
    if exc.errors:
        body["errors"] = exc.errors
    response = jsonify(body)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="mda"'
    return response, exc.status


@api_blueprint.route("/verwijzingen", methods=["POST"])
@limiter.limit(API_LIMIT)
def submit_referral() -> tuple[Response, int]:
    token: ApiToken | None = None
    try:
        token = _authenticate()
        fields, persons, submit_now = check_payload(_read_json())
        try:
            referral = operations.create_from_api(token, fields=fields, persons=persons, submit_now=submit_now)
        except operations.IncompleteReferral as exc:
            raise ApiError(422, "incomplete", exc.message,
                           [{"field": name, "message": "Verplicht om de verwijzing in te dienen."}
                            for name in exc.missing], audit_detail="API: verwijzing onvolledig") from None
        except InvalidInput as exc:
            raise ApiError(422, "invalid_payload", exc.message,
                           [{"field": exc.field or "", "message": exc.message}],
                           audit_detail="API: ongeldige invoer") from None
    except ApiError as exc:
        return _refuse(exc, token)
    record(AuditAction.CREATE, by=None, username=f"api-sleutel {token.id}", object_type="referral",
           object_id=referral.id, detail="verwijzing ontvangen via de API")
    response = jsonify({"id": referral.id, "status": referral.status.value, "status_label": referral.status.label})
    response.headers["Location"] = url_for("referrals.detail", referral_id=referral.id)
    return response, 201


@api_blueprint.errorhandler(429)
def _too_many(_exc: Exception) -> tuple[Response, int]:
    return _refuse(ApiError(429, "rate_limited", "Te veel verzoeken. Wacht even en probeer het dan opnieuw.",
                            audit_detail="API: te veel verzoeken"), None)


@api_blueprint.errorhandler(413)
def _too_large(_exc: Exception) -> tuple[Response, int]:
    return _refuse(ApiError(413, "too_large", "De verwijzing is te groot."), None)


@api_blueprint.errorhandler(Exception)
def _unexpected(exc: Exception) -> tuple[Response, int]:
    db.session.rollback()
    if isinstance(exc, HTTPException) and exc.code and exc.code < 500:
        return jsonify({"error": "bad_request", "message": "Het verzoek kon niet worden verwerkt."}), exc.code
    current_app.logger.error("unhandled %s in the referral API", type(exc).__name__)
    return jsonify({"error": "server_error", "message": "Er ging iets mis. De verwijzing is niet opgeslagen; "
                                                        "probeer het later opnieuw."}), 500
