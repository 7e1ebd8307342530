"""The case handler's inbox: the reports they are a recipient of, and nothing else.

One query per page: filters and sorting run in the database on indexed columns, the
page's labels, handlers and unread counts in three more small queries. The counts per
status (and the totals of pages filtered by status and priority) come from InboxCount,
which triggers keep, and pages past the middle are read from the other end, so the
inbox stays fast at a million reports (bench/inbox.py).
"""

from __future__ import annotations

import string
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, tuple_
from sqlalchemy.orm import Session, defer

from reporting_portal.staff.casework.case_search import case_matches, clean_search
from reporting_portal.storage.models import (
    AccessGrant,
    CaseRead,
    Channel,
    InboxCount,
    Label,
    ObjectKind,
    Priority,
    Report,
    ReportObject,
    ReportStatus,
    StaffAccount,
    report_label,
)

PAGE_SIZE = 50
MAX_PAGE = 100_000


class Sort(StrEnum):
    NEWEST = "-received"
    OLDEST = "received"
    ACKNOWLEDGEMENT_DUE = "ack_due"
    FEEDBACK_DUE = "feedback_due"
    PRIORITY = "priority"


@dataclass(frozen=True)
class InboxFilter:
    status: str | None = None
    channel: str | None = None  # slug
    label: str | None = None
    priority: str | None = None
    overdue: bool = False
    sort: Sort = Sort.NEWEST
    page: int = 1
    search: str | None = None  # a case number or the start of a reference
    received_from: date | None = None
    received_to: date | None = None
    # Cases a person put this handler on, not those the channel gave everyone.
    assigned_to_me: bool = False
    # The Next and Previous links name the case at the edge of the page they leave (its
    # public id), so the next page starts from it in the index, whatever the page's depth.
    after: str | None = None
    before: str | None = None

    @property
    def whole_inbox(self) -> bool:
        """No filter at all: every case the handler holds."""
        return self.only_status_or_priority and not (self.status or self.priority)

    @property
    def only_status_or_priority(self) -> bool:
        """Whether the kept counts (InboxCount) answer how many cases match."""
        return not (self.channel or self.label or self.overdue
                    or self.search or self.received_from or self.received_to
                    or self.assigned_to_me)

    @classmethod
    def from_args(cls, args: dict[str, str]) -> InboxFilter:
        """Read filters from a query string; unknown values are ignored, not errors."""
        status = args.get("status") or None
        priority = args.get("priority") or None
        try:
            page = min(max(int(args.get("page", "1")), 1), MAX_PAGE)
        except ValueError:
            page = 1
        try:
            sort = Sort(args.get("sort", Sort.NEWEST))
        except ValueError:
            sort = Sort.NEWEST
        return cls(
            status=status if status in set(ReportStatus) else None,
            channel=_text_filter(args.get("channel")),
            label=_text_filter(args.get("label")),
            priority=priority if priority in set(Priority) else None,
            overdue=args.get("overdue") == "1",
            sort=sort,
            page=page,
            search=clean_search(args.get("q")),
            received_from=_day(args.get("from")),
            received_to=_day(args.get("to")),
            assigned_to_me=args.get("mine") == "1",
            after=_page_edge(args.get("after")),
            before=_page_edge(args.get("before")),
        )


_ISO_DAY_CHARS = len("2026-12-31")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) <= _ISO_DAY_CHARS else None
    except ValueError:
        return None


# Longer than any channel slug or label name: such a value cannot match, so it is dropped.
_MAX_TEXT_FILTER = 200


def _text_filter(value: str | None) -> str | None:
    """A channel slug or label name typed into the address, or ``None`` when it cannot be
    one: a control character (PostgreSQL refuses a NUL in a string outright, which
    would be a 500) or more characters than any name has."""
    if not value or len(value) > _MAX_TEXT_FILTER or not value.isprintable():
        return None
    return value


_PUBLIC_ID_CHARS = frozenset(string.ascii_letters + string.digits + "-_")
_MAX_PUBLIC_ID = 32  # Report.public_id's column


def _page_edge(value: str | None) -> str | None:
    """A case's public id from a Next or Previous link, or ``None`` when it cannot be one."""
    if not value or len(value) > _MAX_PUBLIC_ID or not set(value) <= _PUBLIC_ID_CHARS:
        return None
    return value


@dataclass(frozen=True)
class InboxRow:
    report: Report
    channel_name: str
    labels: list[str]
    handlers: list[str]
    unread: int

    def acknowledgement_overdue(self, today: date) -> bool:
        due = self.report.acknowledgement_due
        return self.report.status == ReportStatus.RECEIVED and due is not None and due < today

    def feedback_overdue(self, today: date) -> bool:
        due = self.report.feedback_due
        return self.report.status != ReportStatus.CLOSED and due is not None and due < today


@dataclass
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int
    counts_by_status: dict[str, int] = field(default_factory=dict)
    # For the Next and Previous links, in the sorts that can start a page from a case.
    last_case: str | None = None
    first_case: str | None = None


_PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def _granted(staff_id: int) -> Any:
    # EXISTS, not a join: the database can then walk the sort order's index and probe
    # the grant's primary key, instead of sorting every case the handler holds.
    return select(AccessGrant.report_id).where(
        AccessGrant.report_id == Report.id, AccessGrant.staff_id == staff_id
    ).exists()


def _filtered(staff_id: int, chosen: InboxFilter, today: date) -> Select[Any]:
    query = select(Report).where(_granted(staff_id))
    if chosen.status:
        query = query.where(Report.status == chosen.status)
    if chosen.priority:
        query = query.where(Report.priority == chosen.priority)
    if chosen.channel:
        query = query.join(Channel, Channel.id == Report.channel_id).where(
            Channel.slug == chosen.channel)
    if chosen.label:
        query = query.where(Report.id.in_(
            select(report_label.c.report_id).join(Label, Label.id == report_label.c.label_id)
            .where(Label.name == chosen.label)))
    if chosen.search:
        query = query.where(case_matches(chosen.search))
    if chosen.received_from:
        query = query.where(Report.received_on >= chosen.received_from)
    if chosen.received_to:
        query = query.where(Report.received_on <= chosen.received_to)
    if chosen.assigned_to_me:
        query = query.where(select(AccessGrant.report_id).where(
            AccessGrant.report_id == Report.id, AccessGrant.staff_id == staff_id,
            AccessGrant.granted_by_id.is_not(None)).exists())
    if chosen.overdue:
        query = query.where(or_(
            and_(Report.status == ReportStatus.RECEIVED, Report.acknowledgement_due < today),
            and_(Report.status != ReportStatus.CLOSED, Report.feedback_due < today),
        ))
    return query


def _sort_keys(sort: Sort) -> list[tuple[Any, bool]]:
    """The columns a sort orders by, each with whether it runs descending; the id last,
    so the order is total and a page never shares a row with the next."""
    if sort == Sort.OLDEST:
        return [(Report.received_on, False), (Report.id, False)]
    if sort == Sort.ACKNOWLEDGEMENT_DUE:
        return [(Report.acknowledgement_due, False), (Report.id, False)]
    if sort == Sort.FEEDBACK_DUE:
        return [(Report.feedback_due, False), (Report.id, False)]
    if sort == Sort.PRIORITY:
        # Priorities sort by meaning, not alphabet: map them in the query.
        rank = case(_PRIORITY_ORDER, value=Report.priority, else_=9)
        return [(rank, False), (Report.received_on, True), (Report.id, True)]
    return [(Report.received_on, True), (Report.id, True)]


def _by(query: Select[Any], keys: list[tuple[Any, bool]], *,
        reverse: bool = False) -> Select[Any]:
    # Both databases put NULLs at the other end when an order is reversed, so the
    # reversed order is exactly the list read backwards.
    return query.order_by(*(
        key.desc() if descending != reverse else key.asc() for key, descending in keys))


def _ordered(query: Select[Any], sort: Sort, *, reverse: bool = False) -> Select[Any]:
    return _by(query, _sort_keys(sort), reverse=reverse)


# Sorts whose keys are never NULL and run one way, matched by an index on (key, id):
# their pages can start from a case with a row comparison.
_KEYSET_SORTS = {Sort.NEWEST: (Report.received_on, True), Sort.OLDEST: (Report.received_on, False)}


def _grant_keys(sort: Sort) -> list[tuple[Any, bool]]:
    """The same order over the handler's grants (their copy of the day of receipt)."""
    descending = _KEYSET_SORTS[sort][1]
    return [(AccessGrant.received_on, descending), (AccessGrant.report_id, descending)]


def _page_ids(db: Session, staff_id: int, base: Select[Any], chosen: InboxFilter, page: int,
              total: int) -> list[int]:
    """The ids on a page. Sort and page over ids alone, then load the rows: sorting whole
    rows (each carries the reporter's ~2 KB public key) made deep pages take seconds."""
    ids = base.with_only_columns(Report.id)
    from_edge = _ids_from_edge(db, staff_id, ids, chosen)
    if from_edge:
        return from_edge
    if chosen.whole_inbox and chosen.sort in _KEYSET_SORTS:
        # The handler's own index (staff, day, case) holds this order: the offset skips
        # index entries, not a grant lookup per case (0.8 s half-way through a million).
        ids = select(AccessGrant.report_id.label("id")).where(AccessGrant.staff_id == staff_id)
        keys = _grant_keys(chosen.sort)
    else:
        keys = _sort_keys(chosen.sort)
    # OFFSET walks every row before the page, so a page past the middle is read from the
    # other end: the last of 20,000 pages costs what the first does.
    first = (page - 1) * PAGE_SIZE
    end = min(first + PAGE_SIZE, total)
    if first <= total - end:
        return list(db.scalars(_by(ids, keys).offset(first).limit(PAGE_SIZE)))
    backwards = _by(ids, keys, reverse=True).offset(total - end).limit(end - first)
    return list(reversed(db.scalars(backwards).all()))


def _ids_from_edge(db: Session, staff_id: int, ids: Select[Any],
                   chosen: InboxFilter) -> list[int]:
    """The page after (or before) the case a Next (or Previous) link names, found in the
    index from that case: as fast at page 10,000 as at page 2. Empty when the sort has
    no such index, or the case is not one of the handler's: the page is then counted."""
    edge_id = chosen.after or chosen.before
    if chosen.sort not in _KEYSET_SORTS or not edge_id:
        return []
    edge = db.execute(select(Report.received_on, Report.id).where(
        Report.public_id == edge_id, _granted(staff_id))).first()
    if edge is None:
        return []
    key, descending = _KEYSET_SORTS[chosen.sort]
    forwards = chosen.after is not None
    position = tuple_(key, Report.id)
    edge_position = tuple_(edge.received_on, edge.id)
    beyond = position < edge_position if descending == forwards else position > edge_position
    page = db.scalars(_ordered(ids.where(beyond), chosen.sort, reverse=not forwards)
                      .limit(PAGE_SIZE)).all()
    return list(page) if forwards else list(reversed(page))


def inbox_page(db: Session, staff_id: int, chosen: InboxFilter, today: date) -> InboxPage:
    """One page of the handler's inbox, with totals for the filter and per status."""
    base = _filtered(staff_id, chosen, today)
    # Kept by triggers (storage/models InboxCount): counting the grants took 0.8 s at a
    # million cases.
    kept = db.execute(
        select(InboxCount.status, InboxCount.priority, InboxCount.cases)
        .where(InboxCount.staff_id == staff_id, InboxCount.cases > 0)
    ).all()
    counts: dict[str, int] = defaultdict(int)
    for status, _priority, cases in kept:
        counts[status] += cases
    if chosen.only_status_or_priority:
        # The kept counts already answer it: no second pass over the cases.
        total = sum(cases for status, priority, cases in kept
                    if chosen.status in (None, status) and chosen.priority in (None, priority))
    else:
        total = int(db.scalar(base.with_only_columns(func.count(Report.id)).order_by(None)) or 0)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(chosen.page, pages)
    ids = _page_ids(db, staff_id, base, chosen, page, total)
    # The row shows dates, status and numbers: the reporter's key columns (some 2 KiB a
    # case, most of a page's bytes) stay in the database.
    shown = select(Report).where(Report.id.in_(ids)).options(
        defer(Report.reporter_recipient),
        defer(Report.wrapped_reporter_identity),
        defer(Report.receipt_lookup),
    )
    by_id = {report.id: report for report in db.scalars(shown)}
    reports = [by_id[report_id] for report_id in ids]
    edges = chosen.sort in _KEYSET_SORTS and bool(reports)
    return InboxPage(
        rows=_rows(db, staff_id, reports, ids),
        total=total,
        page=page,
        pages=pages,
        counts_by_status={str(k): int(v) for k, v in counts.items()},
        last_case=reports[-1].public_id if edges else None,
        first_case=reports[0].public_id if edges else None,
    )


def _rows(db: Session, staff_id: int, reports: list[Report], ids: list[int]) -> list[InboxRow]:
    if not ids:
        return []
    labels: dict[int, list[str]] = defaultdict(list)
    for report_id, name in db.execute(
        select(report_label.c.report_id, Label.name)
        .join(Label, Label.id == report_label.c.label_id)
        .where(report_label.c.report_id.in_(ids)).order_by(Label.name)
    ):
        labels[report_id].append(name)
    handlers: dict[int, list[str]] = defaultdict(list)
    for report_id, name in db.execute(
        select(AccessGrant.report_id, StaffAccount.display_name)
        .join(StaffAccount, StaffAccount.id == AccessGrant.staff_id)
        .where(AccessGrant.report_id.in_(ids)).order_by(StaffAccount.display_name)
    ):
        handlers[report_id].append(name)
    read_up_to = dict(db.execute(
        select(CaseRead.report_id, CaseRead.last_object_id)
        .where(CaseRead.staff_id == staff_id, CaseRead.report_id.in_(ids))
    ).all())
    unread: dict[int, int] = defaultdict(int)
    for report_id, object_id in db.execute(
        select(ReportObject.report_id, ReportObject.id).where(
            ReportObject.report_id.in_(ids),
            ReportObject.from_reporter.is_(True),
            ReportObject.kind.in_([ObjectKind.CONTENT, ObjectKind.MESSAGE]),
        )
    ):
        if object_id > read_up_to.get(report_id, 0):
            unread[report_id] += 1
    channel_names = dict(db.execute(select(Channel.id, Channel.name)).all())
    return [
        InboxRow(
            report=report,
            channel_name=channel_names.get(report.channel_id, ""),
            labels=labels[report.id],
            handlers=handlers[report.id],
            unread=unread[report.id],
        )
        for report in reports
    ]
