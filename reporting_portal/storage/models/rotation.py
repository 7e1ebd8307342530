"""Key rotations in progress or done: the recovery recipient's, or one staff member's."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reporting_portal.storage.db import Base, new_public_id
from reporting_portal.storage.models.types import UTCDateTime, utc_now


class RotationSubject(StrEnum):
    """Whose key is rotated."""

    RECOVERY = "recovery"
    STAFF = "staff"


class KeyRotation(Base):
    """One rotation: every header and sealed text the old key opened is re-granted to the
    new key, in batches, from where the last batch stopped.

    The cursors are the highest ``report_object`` and ``identity_access_request`` ids a
    committed batch has passed. After the first pass a second one (``sweeping``) starts
    again from the beginning, for what a concurrent transaction sealed to the old key
    while the first went by; the rotation is complete when the sweep is through and
    ``complete_after`` has passed.
    """

    __tablename__ = "key_rotation"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    subject: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_account.id", ondelete="CASCADE"), index=True
    )
    old_recipient: Mapped[str] = mapped_column(Text)
    new_recipient: Mapped[str] = mapped_column(Text)
    # A staff rotation keeps the old identity, wrapped under the person's password as it
    # was on the account, until every grant is moved: a new sign-in needs it to read what
    # is not re-granted yet. Cleared on completion. Never set for the recovery key, whose
    # identity is never on the server.
    old_wrapped_identity: Mapped[bytes | None] = mapped_column(LargeBinary)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    # Not complete before this: a reporter's page opened before the switch still holds
    # the old key (the browser encrypts to the recipients it was given, and the server
    # cannot see whom a stanza is for) until that reporter session times out.
    complete_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    object_cursor: Mapped[int] = mapped_column(default=0)
    text_cursor: Mapped[int] = mapped_column(default=0)
    sweeping: Mapped[bool] = mapped_column(default=False)
    # What was re-granted: headers of report objects, and sealed texts.
    objects_regranted: Mapped[int] = mapped_column(default=0)
    texts_regranted: Mapped[int] = mapped_column(default=0)
