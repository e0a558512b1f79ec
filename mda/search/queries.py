"""Search within the cases and referrals the user may see.

How names are matched, and why this way
---------------------------------------
Exact questions go through indexes without decrypting anything: a case number is a plain
column, a BSN goes through the keyed blind index (``Person.bsn_index``). Names and family labels
are matched the way people type them (any case, with or without accents, extra spaces,
typographic apostrophes as in "D’Souza", part of a name), which no exact blind index can do.
Two ways exist: a keyed index of name fragments (trigrams), or decrypting the names of the
user's permitted set and filtering them in memory. We decrypt the permitted set:

* a keyed trigram index leaks far more than an exact blind index: equal fragments are equal
  digests, so rows sharing a surname, a prefix or a rare letter combination can be linked and
  counted by anyone holding a database copy, and short fragments are open to frequency analysis;
  it would also be a second copy of every name to keep through key rotation, purges and erasure;
* the permitted set is small where it matters: a coordinator or expert searches the twenty-odd
  cases they are on (about a hundred names, a few milliseconds of AES-GCM), and a team lead a
  region's caseload (150 open and 500 closed cases, about 3,000 names); only the columns needed
  are read, as plain tuples (the row uuid as text, the role as its code), each value is decrypted
  once per search with one cipher, and plain-ASCII names are matched as bytes (``NameMatcher``):
  about 20 ms in process for a region's 3,000 names;
* the permitted set is decided by the policy (``viewable_case_ids``, ``viewable_referral_ids``),
  so a forbidden case is never even decrypted, let alone shown.

The cost grows with the permitted set: a team lead of an instance holding a whole country's
cases would wait for every name to be decrypted on a partial-name search (exact searches, by case
number and BSN, go through their indexes and decrypt nothing but the names they find).
``bench/`` measures both roles.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import String, select, type_coerce, union_all

from ..accounts.models import User
from ..cases.models import Case
from ..db import db
from ..people.identity import normalise_bsn
from ..people.models import Person, PersonRole
from ..referrals.models import Referral
from ..security.crypto import normalise_name
from ..security.fields import blind_index, decrypt_stored, row_uuid_text, stored_decryptor
from ..security.policy import Permission, may, may_each, viewable_case_ids, viewable_referral_ids

MAX_HITS = 50
MIN_TEXT = 2
MAX_TEXT = 200

REFERENCE = re.compile(r"^(?:mda[\s-]*)?(\d{4})[\s-]+(\d{1,4})$", re.IGNORECASE)
BSN = re.compile(r"^\d{8,9}$")
DATE = re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?!\d)|(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
# After ``normalise_name`` every typed apostrophe is "'" and every dash "-".
_SEARCH_FOLD = str.maketrans({"'": None, "-": " "})


def normalise_text(text: str) -> str:
    """How users type a name: the blind index's reading of a name (``normalise_name``: case, accents,
    spaces, typographic apostrophes and dashes do not matter), made more forgiving for searching:
    apostrophes dropped ("DSouza" finds "D'Souza") and dashes a space ("van der" finds "Van-Der")."""
    return " ".join(normalise_name(text).translate(_SEARCH_FOLD).split())


@dataclass(frozen=True)
class SearchQuery:
    kind: str                       # reference | bsn | name | invalid
    reference: str | None = None
    bsn: str | None = None
    words: tuple[str, ...] = ()
    birth_date: date | None = None
    problem: str | None = None

    @property
    def audit_label(self) -> str:
        """What kind of search it was, for the audit trail: never the text itself."""
        if self.kind == "name":
            return "naam en geboortedatum" if self.birth_date else "naam of gezinslabel"
        return {"reference": "casusnummer", "bsn": "BSN"}.get(self.kind, "ongeldige zoekvraag")


def parse(text: str) -> SearchQuery:
    text = (text or "").strip()
    if len(text) < MIN_TEXT:
        return SearchQuery("invalid", problem=f"Typ minstens {MIN_TEXT} tekens.")
    if len(text) > MAX_TEXT:
        return SearchQuery("invalid", problem=f"Typ hoogstens {MAX_TEXT} tekens.")
    reference = REFERENCE.match(text)
    if reference:
        return SearchQuery("reference", reference=f"MDA-{reference[1]}-{int(reference[2]):04d}")
    digits = re.sub(r"[\s.]", "", text)
    if BSN.match(digits):
        return SearchQuery("bsn", bsn=normalise_bsn(digits))
    birth_date = None
    found = DATE.search(text)
    if found:
        day, month, year = (found[1], found[2], found[3]) if found[1] else (found[6], found[5], found[4])
        try:
            birth_date = date(int(year), int(month), int(day))
        except ValueError:
            return SearchQuery("invalid", problem="Deze datum bestaat niet. Schrijf de geboortedatum als dd-mm-jjjj.")
        text = (text[:found.start()] + " " + text[found.end():]).strip()
    words = tuple(normalise_text(text).split())
    if not words:
        return SearchQuery("invalid", problem="Zoek met een geboortedatum altijd ook op (een deel van) de naam.")
    return SearchQuery("name", words=words, birth_date=birth_date)


def _matches(words: tuple[str, ...], value: str | None) -> bool:
    if not value:
        return False
    normalised = normalise_text(value)
    return all(word in normalised for word in words)


# ``normalise_text`` of plain ASCII, on bytes: lower case, the ASCII dash (and the separators that
# ``str.split`` counts as white space) a space, the ASCII apostrophes gone. Collapsing white space
# is left out: a query word never holds a space, so it cannot change whether a word is contained.
_ASCII_FOLD = bytes.maketrans(bytes(range(65, 91)) + b"-\x1c\x1d\x1e\x1f", bytes(range(97, 123)) + b"     ")
_ASCII_DROP = b"'`"   # the ASCII characters normalise_name reads as an apostrophe


class NameMatcher:
    """Does a decrypted value (UTF-8 bytes) contain every query word, as ``_matches`` decides?
    Most names are plain ASCII: those are folded and searched as bytes, without decoding them
    or building a string per name; any other value goes through ``normalise_text``."""

    def __init__(self, words: tuple[str, ...]):
        self.words = words
        # A word outside ASCII (after normalising, e.g. "ø") can never be in an ASCII name.
        self.ascii_words = tuple(word.encode() for word in words) if all(w.isascii() for w in words) else None

    def __call__(self, plaintext: bytes | None) -> bool:
        if not plaintext:
            return False
        if plaintext.isascii():
            if self.ascii_words is None:
                return False
            folded = plaintext.translate(_ASCII_FOLD, _ASCII_DROP)
            return all(word in folded for word in self.ascii_words)
        return _matches(self.words, plaintext.decode("utf-8"))


@dataclass
class Hit:
    """A case or a referral found, with why and which persons matched (name and role)."""

    why: str
    case: Case | None = None
    referral: Referral | None = None
    persons: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class SearchOutcome:
    query: SearchQuery
    hits: list[Hit]
    more: bool = False                # more than MAX_HITS: refine the search


def search(user: User, text: str) -> SearchOutcome:
    query = parse(text)
    if query.kind == "invalid":
        return SearchOutcome(query, [])
    cases = viewable_case_ids(user)
    referrals = viewable_referral_ids(user)
    # Persons on a referral become case data once the case is opened; until then the referral's.
    # Two scopes, read as the two halves of a UNION ALL (``_persons_in``): one condition joining them
    # with OR made PostgreSQL scan every person of the instance for a coordinator's twenty cases.
    person_scope = (Person.case_id.in_(cases),
                    Person.case_id.is_(None) & Person.referral_id.in_(referrals))
    # A referral that became a case the user can see is found as that case.
    referral_scope = Referral.id.in_(referrals) & (Referral.case_id.is_(None) | Referral.case_id.not_in(cases))

    found_cases: dict[int, Hit] = {}
    found_referrals: dict[int, Hit] = {}

    def hit_for(case_id: int | None, referral_id: int | None, why: str) -> Hit:
        if case_id is not None:
            return found_cases.setdefault(case_id, Hit(why))
        return found_referrals.setdefault(referral_id, Hit(why))  # type: ignore[arg-type]

    if query.kind == "reference":
        for case_id in db.session.scalars(select(Case.id).where(Case.reference == query.reference,
                                                                Case.id.in_(cases))):
            hit_for(case_id, None, "casusnummer")
    elif query.kind == "bsn":
        digest = blind_index().bsn(query.bsn)
        for row in db.session.execute(_persons_in(person_scope, [Person.case_id, Person.referral_id, Person.uuid,
                                                                 Person.name_ciphertext, Person.role],
                                                  Person.bsn_index == digest)):
            hit_for(row.case_id, row.referral_id, "BSN").persons.append(
                (decrypt_stored(Person, "name", row.name_ciphertext, row.uuid) or "—", row.role.label))
    else:
        _by_name(query, person_scope, referral_scope, cases, hit_for)

    hits = _load(found_cases, found_referrals)
    # Belt and braces: every hit is checked against the policy once more before it is shown (the
    # cases in one query for the user's memberships, not one per hit).
    case_hits = [hit for hit in hits if hit.case is not None]
    allowed = {id(hit) for hit, ok in zip(case_hits, may_each(user, Permission.CASE_VIEW,
                                                                [hit.case for hit in case_hits])) if ok}
    hits = [hit for hit in hits
            if id(hit) in allowed
            or (hit.referral is not None and may(user, Permission.REFERRAL_VIEW, hit.referral))]
    return SearchOutcome(query, hits[:MAX_HITS], more=len(hits) > MAX_HITS)


def _persons_in(scopes: tuple[Any, Any], columns: list[Any], condition: Any) -> Any:
    """The columns of the persons matching ``condition`` in either scope (a case's persons, a
    referral's persons before it became a case), each half planned with its own index."""
    return union_all(*(select(*columns).where(scope, condition) for scope in scopes))


def _by_name(query: SearchQuery, person_scope: Any, referral_scope: Any, cases: Any, hit_for: Any) -> None:
    """Decrypt and match the names (and family labels) of the permitted set. Only the columns
    needed are read, as plain tuples (no ORM objects, the uuid as text), each value is decrypted
    once with one cipher, and only the names that match are decoded."""
    why = "naam en geboortedatum" if query.birth_date else "naam"
    matches = NameMatcher(query.words)
    name_of = stored_decryptor(Person, "name", raw=True)
    # The role as its stored code: turned into its label only for the names that match.
    columns = [Person.case_id, Person.referral_id, row_uuid_text(Person.uuid), Person.name_ciphertext,
               type_coerce(Person.role, String)]
    if query.birth_date is not None:
        birth_date_of = stored_decryptor(Person, "date_of_birth")
        born_on = query.birth_date.isoformat()
        columns.append(Person.date_of_birth_ciphertext)
    rows = db.session.execute(_persons_in(person_scope, columns, Person.name_ciphertext.is_not(None))).tuples()
    for row in rows:
        name = name_of(row[3], row[2])
        if not matches(name):
            continue
        if query.birth_date is not None and birth_date_of(row[5], row[2]) != born_on:
            continue
        hit_for(row[0], row[1], why).persons.append((name.decode("utf-8"), PersonRole(row[4]).label))
    if query.birth_date is not None:
        return  # a family label has no date of birth
    case_label_of = stored_decryptor(Case, "family_label", raw=True)
    for case_id, row_uuid, token in db.session.execute(
            select(Case.id, row_uuid_text(Case.uuid), Case.family_label_ciphertext)
            .where(Case.id.in_(cases), Case.family_label_ciphertext.is_not(None))).tuples():
        if matches(case_label_of(token, row_uuid)):
            hit_for(case_id, None, "gezinslabel")
    referral_label_of = stored_decryptor(Referral, "family_label", raw=True)
    for referral_id, row_uuid, token in db.session.execute(
            select(Referral.id, row_uuid_text(Referral.uuid), Referral.family_label_ciphertext)
            .where(referral_scope, Referral.family_label_ciphertext.is_not(None))).tuples():
        if matches(referral_label_of(token, row_uuid)):
            hit_for(None, referral_id, "gezinslabel")


def _load(found_cases: dict[int, Hit], found_referrals: dict[int, Hit]) -> list[Hit]:
    """The found records: open cases first, then by case number; referrals after, newest first.
    Only the first ``MAX_HITS + 1`` are loaded as objects (one more says "refine your search")."""
    hits: list[Hit] = []
    if found_cases:
        order = db.session.execute(select(Case.id, Case.status, Case.reference)
                                   .where(Case.id.in_(list(found_cases)))).all()
        keep = [row.id for row in sorted(order, key=lambda row: (row.status.value != "open", row.reference))]
        keep = keep[:MAX_HITS + 1]
        loaded = {case.id: case for case in db.session.scalars(select(Case).where(Case.id.in_(keep)))}
        for case_id in keep:
            found_cases[case_id].case = loaded[case_id]
            hits.append(found_cases[case_id])
    if found_referrals and len(hits) <= MAX_HITS:
        keep = sorted(found_referrals, reverse=True)[:MAX_HITS + 1 - len(hits)]
        loaded_referrals = {r.id: r for r in db.session.scalars(select(Referral).where(Referral.id.in_(keep)))}
        for referral_id in keep:
            found_referrals[referral_id].referral = loaded_referrals[referral_id]
            hits.append(found_referrals[referral_id])
    return hits
