"""Staff addresses and mail settings for the notice tests."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.storage.models import NoticeOutbox, StaffAccount

ADDRESSES = {"hana": "hana@example.org", "omar": "omar@example.org", "cleo": "cleo@example.org"}


def use_settings(app: Flask, **changes: object) -> None:
    app.extensions["settings"] = app.extensions["settings"].replace(**changes)


def give_addresses(db: Session, names: list[str]) -> None:
    for name in names:
        account = db.scalar(select(StaffAccount).where(StaffAccount.username == name))
        assert account is not None
        account.email = ADDRESSES[name]
    db.commit()


def outbox_rows(db: Session) -> list[NoticeOutbox]:
    db.expire_all()
    return list(db.scalars(select(NoticeOutbox).order_by(NoticeOutbox.id)))
