"""A case's protection record: measures against retaliation, in encrypted objects.

The case's handlers keep it (staff/casework/protection.py); the reporter reads what a
handler shared (the mailbox). Each measure's state is an age object of kind
``protection`` for the case's recipients, like a note: what the measure is, whether it
was requested, granted or refused, on which day, who is responsible, and a detail. A
shared measure has a second object of kind ``shared_measure`` for the reporter too,
holding less: the measure, its state and day (and the detail of an "other" measure,
which would say nothing without it), never the person responsible. The record's review
date and closing outcome are one more ``protection`` object.

EU Directive 2019/1937: art. 20 (support measures: legal aid, psychological support,
information), art. 21 (protection measures, interim relief); UNCAC art. 33 and the
UNGASS 2021 declaration, paragraph 30 (protection of reporting persons and those close
to them). SECURITY.md maps each part.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import AgeError
from crypto.keys import Identity
from reporting_portal.domain.objects import (
    new_object,
    read_small_json,
    seal_for,
    store_small_payload,
)
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import (
    ObjectKind,
    ProtectionMeasure,
    Report,
    ReportObject,
    StaffAccount,
)

PROTECTION_VERSION = 1
RESPONSIBLE_MAX_CHARS = 200
DETAIL_MAX_CHARS = 2000
OUTCOME_MAX_CHARS = 2000


class MeasureKind(StrEnum):
    CONFIDENTIALITY = "confidentiality"
    TRANSFER = "transfer"
    INTERIM_RELIEF = "interim_relief"
    LEGAL_AID = "legal_aid"
    PSYCHOLOGICAL_SUPPORT = "psychological_support"
    LABOUR_INSPECTORATE = "labour_inspectorate"
    OTHER = "other"


class MeasureState(StrEnum):
    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"


MEASURE_LABELS: dict[str, LazyString] = {
    MeasureKind.CONFIDENTIALITY: _l("Confidentiality reinforcement"),
    MeasureKind.TRANSFER: _l("Transfer"),
    MeasureKind.INTERIM_RELIEF: _l("Interim relief"),
    MeasureKind.LEGAL_AID: _l("Referral to legal aid"),
    MeasureKind.PSYCHOLOGICAL_SUPPORT: _l("Psychological support"),
    MeasureKind.LABOUR_INSPECTORATE: _l("Referral to the labour inspectorate"),
    MeasureKind.OTHER: _l("Other measure"),
}
STATE_LABELS: dict[str, LazyString] = {
    MeasureState.REQUESTED: _l("Requested"),
    MeasureState.GRANTED: _l("Granted"),
    MeasureState.REFUSED: _l("Refused"),
}


def measure_label(code: str) -> str:
    label = MEASURE_LABELS.get(code)
    return str(label) if label is not None else code


def state_label(code: str) -> str:
    label = STATE_LABELS.get(code)
    return str(label) if label is not None else code


@dataclass(frozen=True)
class MeasureText:
    """A measure's state as a handler records it (checked by the service)."""

    kind: MeasureKind
    state: MeasureState
    on: date
    responsible: str
    detail: str

    def document(self) -> dict[str, Any]:
        return {"version": PROTECTION_VERSION, "measure": str(self.kind),
                "state": str(self.state), "on": self.on.isoformat(),
                "responsible": self.responsible, "detail": self.detail}

    def shared_document(self) -> dict[str, Any]:
        """What the reporter may read: never the person responsible, nor a detail
        written for colleagues (an "other" measure's detail is what names it)."""
        return {"version": PROTECTION_VERSION, "measure": str(self.kind),
                "state": str(self.state), "on": self.on.isoformat(),
                "detail": self.detail if self.kind == MeasureKind.OTHER else ""}

    @property
    def is_open(self) -> bool:
        return self.state != MeasureState.REFUSED


def measure_from(document: dict[str, Any]) -> MeasureText | None:
    """A measure read back from its object; ``None`` if it does not parse (damaged)."""
    try:
        return MeasureText(kind=MeasureKind(str(document.get("measure"))),
                           state=MeasureState(str(document.get("state"))),
                           on=date.fromisoformat(str(document.get("on"))),
                           responsible=str(document.get("responsible", "")),
                           detail=str(document.get("detail", "")))
    except ValueError:
        return None


def file_protection_object(db: Session, store: BlobStore, report: Report, *,
                           kind: ObjectKind, document: dict[str, Any],
                           recipients: Sequence[str],
                           author: StaffAccount | None) -> ReportObject:
    """Encrypt ``document`` to ``recipients`` as a new object of the case."""
    blob_name, size, file_key = store_small_payload(
        db, store, json.dumps(document, ensure_ascii=False).encode("utf-8"))
    obj = new_object(report=report, kind=kind, header=seal_for(file_key, recipients),
                     blob_name=blob_name, payload_size=size,
                     today=datetime.now(UTC).date(), from_reporter=False, author=author)
    db.add(obj)
    return obj


def read_document(store: BlobStore, obj: ReportObject,
                  identities: Iterable[Identity]) -> dict[str, Any] | None:
    """An object's document, or ``None`` if these identities cannot open it."""
    try:
        return read_small_json(store, obj, identities)
    except (AgeError, ValueError):
        return None


@dataclass(frozen=True)
class SharedMeasure:
    """A measure as the reporter's mailbox shows it."""

    measure: str
    state: str
    on: date
    detail: str


def shared_measures(db: Session, store: BlobStore, report: Report,
                    identity: Identity) -> list[SharedMeasure]:
    """The measures the handlers shared with the reporter, opened with their key.

    Only ``shared_measure`` objects are read: a measure not shared has none, and its
    full object is not sealed to the reporter at all."""
    objects = db.scalars(
        select(ReportObject).join(ProtectionMeasure,
                                  ProtectionMeasure.shared_object_id == ReportObject.id)
        .where(ProtectionMeasure.report_id == report.id,
               ReportObject.kind == ObjectKind.SHARED_MEASURE)
        .order_by(ProtectionMeasure.id))
    shown = []
    for obj in objects:
        document = read_document(store, obj, [identity])
        measure = None if document is None else _shared_from(document)
        if measure is not None:
            shown.append(measure)
    return shown


def _shared_from(document: dict[str, Any]) -> SharedMeasure | None:
    try:
        kind, state = MeasureKind(str(document.get("measure"))), \
            MeasureState(str(document.get("state")))
        on = date.fromisoformat(str(document.get("on")))
    except ValueError:
        return None
    return SharedMeasure(measure=measure_label(kind), state=state_label(state), on=on,
                         detail=str(document.get("detail", "")))
