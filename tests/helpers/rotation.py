"""Key rotation in tests: a populated instance, and what each key opens of it.

:func:`populate` makes what a rotation must carry over: a case with content, a file and
the reporter's identity, a note and a message by the handler, and an identity access
request approved by the custodian (so sealed texts, and an identity the handler was
given). :func:`opened_by` names everything one identity opens, objects and sealed texts
alike, so a test compares what each person reads before and after.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from crypto import NoMatchError, decrypt_parts
from crypto.keys import Identity, parse_identity
from reporting_portal.domain.objects import open_text
from reporting_portal.storage.blobstore import LocalBlobStore
from reporting_portal.storage.models import IdentityAccessRequest, ReportObject, StaffAccount
from tests.helpers.client import csrf_token
from tests.helpers.custody import REASON, ask, the_request
from tests.helpers.staff import StaffMember, signed_in


def populate(app: Flask, db: Session, submit_case: Callable[..., str],
             members: dict[str, StaffMember]) -> str:
    """A case with every kind of object and sealed text; returns its reference."""
    case = submit_case(identity=True, file=True)
    hana = signed_in(app, members["hana"])
    path = f"/staff/cases/{case}"
    for action, field, text in (("notes", "note", "Check the tender file."),
                                ("messages", "reply", "Who else was at the meeting?")):
        response = hana.post(f"{path}/{action}", data={"csrf_token": csrf_token(hana, path),
                                                       field: text})
        assert response.status_code == 302, response.get_data(as_text=True)
    assert ask(hana, case).status_code == 302
    cleo = signed_in(app, members["cleo"])
    decision = f"/staff/identity-requests/{the_request(db).public_id}"
    response = cleo.post(decision, data={
        "csrf_token": csrf_token(cleo, "/staff/identity-requests"),
        "decision": "approve", "reason": REASON})
    assert response.status_code == 302, response.get_data(as_text=True)
    return case


def forget_last_code(db: Session, member: StaffMember) -> None:
    """Let ``member``'s current TOTP code be used again, as if a minute had passed.

    Each code is accepted once and only one step ahead is: a test that signs the same
    person in several times within a minute needs this.
    """
    db.expire_all()
    account = db.scalar(select(StaffAccount).where(StaffAccount.username == member.username))
    account.totp_last_step = None
    db.commit()


def sign_in_again(app: Flask, db: Session, member: StaffMember) -> FlaskClient:
    """A new browser signed in as ``member``, however often they signed in already."""
    forget_last_code(db, member)
    return signed_in(app, member)


def _identity(identity: str | Identity) -> Identity:
    return parse_identity(identity) if isinstance(identity, str) else identity


def opened_by(settings: Settings, db: Session, identity: str | Identity) -> set[str]:
    """Every object (``object:<id>``) and sealed text (``justification:<id>``,
    ``reason:<id>``) that ``identity`` opens now."""
    key = _identity(identity)
    db.expire_all()
    opened = set()
    store = LocalBlobStore(settings.blob_dir)
    for obj in db.scalars(select(ReportObject).order_by(ReportObject.id)):
        try:
            with store.open(obj.blob_name) as payload:
                decrypt_parts(obj.header, payload, io.BytesIO(), [key])
        except NoMatchError:
            continue
        opened.add(f"object:{obj.public_id}")
    for request in db.scalars(select(IdentityAccessRequest)):
        if open_text(request.sealed_justification, [key]) is not None:
            opened.add(f"justification:{request.public_id}")
        if request.sealed_decision_reason is not None and open_text(
                request.sealed_decision_reason, [key]) is not None:
            opened.add(f"reason:{request.public_id}")
    return opened


def everything(db: Session) -> set[str]:
    """The names :func:`opened_by` gives, for every object and sealed text there is."""
    db.expire_all()
    names = {f"object:{public_id}" for public_id in db.scalars(select(ReportObject.public_id))}
    for request in db.scalars(select(IdentityAccessRequest)):
        names.add(f"justification:{request.public_id}")
        if request.sealed_decision_reason is not None:
            names.add(f"reason:{request.public_id}")
    return names


def payloads(settings: Settings, db: Session) -> dict[str, str]:
    """A digest of each object's payload as stored: a rotation must never write one."""
    db.expire_all()
    store = LocalBlobStore(settings.blob_dir)
    digests = {}
    for public_id, blob_name in db.execute(select(ReportObject.public_id,
                                                  ReportObject.blob_name)):
        with store.open(blob_name) as payload:
            digests[public_id] = hashlib.sha256(payload.read()).hexdigest()
    return digests
