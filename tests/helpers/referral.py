"""Referral in tests: an authority with a key of the test's own, and the handler's forms."""

from __future__ import annotations

from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from crypto.keys import X25519Identity, generate_identity
from reporting_portal.storage.models import Authority, ObjectKind, Referral, Report, ReportObject
from tests.helpers.client import csrf_token

# A redaction of the default case's "What happened?" answer (tests/helpers/reporting.py).
MARKED_WHAT = "The [[mayor's office]] took a bribe for the [[bridge]] contract."
HIDDEN_SPANS = ("mayor's office", "bridge")


@dataclass(frozen=True)
class Receiver:
    """An authority of the directory and the identity only it holds."""

    name: str
    identity: X25519Identity

    @property
    def identity_file(self) -> str:
        return self.identity.to_string() + "\n"


def add_authority(admin: FlaskClient, name: str, *, post_quantum: bool = False,
                  recipient: str | None = None) -> tuple[TestResponse, Receiver]:
    """Add an authority through the administrator's form; a new key unless one is given."""
    identity = generate_identity(post_quantum=post_quantum)
    path = "/staff/admin/authorities/new"
    response = admin.post(path, data={
        "csrf_token": csrf_token(admin, path), "name": name,
        "age_recipient": recipient if recipient is not None else str(identity.recipient),
        "contact_note": "Intake desk, 3rd floor", "is_active": "y"})
    return response, Receiver(name=name, identity=identity)  # type: ignore[arg-type]


def authority_id(db: Session, name: str) -> str:
    db.expire_all()
    return db.scalar(select(Authority.public_id).where(Authority.name == name)) or ""


def part_ids(db: Session, kind: ObjectKind) -> list[str]:
    return list(db.scalars(select(ReportObject.public_id).where(ReportObject.kind == kind)
                           .order_by(ReportObject.id)))


def referral_fields(browser: FlaskClient, db: Session, case_id: str, authority: str, *,
                    marked_what: str = MARKED_WHAT, parts: list[str] | None = None,
                    identity: bool = False, answers: bool = True) -> dict[str, object]:
    fields: dict[str, object] = {
        "csrf_token": csrf_token(browser, f"/staff/cases/{case_id}/referral"),
        "authority": authority_id(db, authority), "marked_what": marked_what,
        "parts": parts or []}
    if answers:
        fields["include_answers"] = "y"
    if identity:
        fields["include_identity"] = "y"
    return fields


def refer(browser: FlaskClient, case_id: str, fields: dict[str, object]) -> TestResponse:
    """Confirm a referral (after its preview) and return the answer to the confirmation."""
    return browser.post(f"/staff/cases/{case_id}/referral", data=fields)


def the_referral(db: Session) -> Referral:
    db.expire_all()
    [referral] = db.scalars(select(Referral)).all()
    return referral


def download_package(browser: FlaskClient, db: Session, case_id: str) -> TestResponse:
    referral = the_referral(db)
    path = f"/staff/cases/{case_id}/referrals/{referral.public_id}"
    return browser.post(f"{path}/package", data={"csrf_token": csrf_token(browser, path)})


def case_report(db: Session, case_id: str) -> Report:
    db.expire_all()
    report = db.scalar(select(Report).where(Report.public_id == case_id))
    assert report is not None
    return report
