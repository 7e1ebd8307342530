"""The case page's timeline: one chronological list, times in the staff zone, reporters'
items by day only, each event saying what it changed, and the filter links."""

import html
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from sqlalchemy import select

from reporting_portal.staff.casework.timeline import TimelineEntry, in_order
from reporting_portal.storage.models import (
    CaseChange,
    Label,
    ObjectKind,
    Report,
    ReportObject,
    Role,
)
from tests.helpers import csrf_token, hidden_fields, https_client, submission_token
from tests.helpers.reporting import open_mailbox

pytestmark = pytest.mark.database

# 5 h 45 min ahead of UTC: a time shown in UTC by mistake cannot match.
ZONE = "Asia/Kathmandu"


@pytest.fixture
def settings(settings):
    return settings.replace(staff_time_zone=ZONE)


def post(client, path, form_path, **data):
    return client.post(path, data={**hidden_fields(client, form_path), **data})


def timeline_of(page):
    """[(kind, meta, text)] of the timeline's entries, top to bottom."""
    listed = page.split('id="timeline-entries"')[1].split("</ol>")[0]
    return [(kind, re.sub(r"<[^>]+>", "", meta).strip(), html.unescape(text.strip()))
            for kind, meta, text in re.findall(
                r'<li class="message message--([a-z-]+)">\s*<p class="message__meta">(.*?)</p>'
                r'\s*<p class="message__text[^"]*">(.*?)</p>', listed, re.S)]


def reporter_says(app, code, text):
    reporter = https_client(app)
    open_mailbox(reporter, code)
    response = reporter.post("/followup/reply", data={
        "csrf_token": csrf_token(reporter, "/followup/mailbox"),
        "submission_token": submission_token(reporter, "/followup/mailbox"),
        "q_message": text}, content_type="multipart/form-data")
    assert response.status_code == 303


@pytest.fixture
def worked_case(app, client, db, case_with_file, sign_in, make_staff, channel_with_handlers):
    """A case after a day of work: every kind of item, in a known order."""
    code = client.receipt_code
    db.add_all([Label(name="procurement"), Label(name="urgent")])
    db.commit()
    zoe = make_staff("zoe", Role.CASE_HANDLER)
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    post(client, f"{path}/acknowledge", path, message="We have your report.")
    post(client, f"{path}/notes", path, note="Check the tender file.")
    post(client, f"{path}/status", path, status="investigation")
    reporter_says(app, code, "The invoice is 4711-B.")
    post(client, f"{path}/messages", path, reply="Thank you, we found it.")
    post(client, f"{path}/priority", path, priority="high")
    post(client, f"{path}/labels", path, labels=["procurement"])
    post(client, f"{path}/labels", path, labels=["urgent"])
    post(client, f"{path}/handlers", path, handler=zoe.public_id)
    post(client, f"{path}/handlers/{zoe.public_id}/remove", path)
    post(client, f"{path}/status", path, status="closed", outcome="not_substantiated")
    return path


def test_one_list_in_the_order_things_happened(client, worked_case):
    entries = timeline_of(client.get(worked_case).get_data(as_text=True))
    assert [(kind, text) for kind, _meta, text in entries] == [
        ("event", "Report received"),
        ("event", "Stage: Received → Acknowledged"),
        ("message", "We have your report."),
        ("note", "Check the tender file."),
        # A reporter's time is not stored: their message follows the staff item stored
        # before it (the note); where it falls among the events between is not known.
        ("reporter-message", "The invoice is 4711-B."),
        ("event", "Stage: Acknowledged → Investigation"),
        ("message", "Thank you, we found it."),
        ("event", "Priority: High"),
        ("event", "Labels: +procurement"),
        ("event", "Labels: +urgent \u2212procurement"),  # a minus sign, not a hyphen
        ("event", "Assigned: Zoe"),
        ("event", "Removed from the case: Zoe"),
        ("event", "Stage: Investigation → Closed. Outcome: Not substantiated"),
    ]
    assert entries[3][1].endswith("Hana · internal note")


def test_staff_items_show_their_time_in_the_staff_zone(client, db, worked_case):
    page = client.get(worked_case).get_data(as_text=True)
    note = db.scalar(select(ReportObject).where(ReportObject.kind == ObjectKind.NOTE))
    shown = format_datetime(note.created_at, "medium", tzinfo=ZoneInfo(ZONE), locale="en")
    in_utc = format_datetime(note.created_at, "medium", tzinfo=ZoneInfo("UTC"), locale="en")
    note_meta = next(meta for kind, meta, _text in timeline_of(page) if kind == "note")
    assert note_meta.startswith(shown)
    assert in_utc not in page
    change = db.scalars(select(CaseChange).order_by(CaseChange.id)).first()
    assert format_datetime(change.occurred_at, "medium", tzinfo=ZoneInfo(ZONE),
                           locale="en") in page
    assert "Times are in the Asia/Kathmandu time zone." in page


def test_reporter_items_show_their_day_only(client, db, worked_case):
    page = client.get(worked_case).get_data(as_text=True)
    message = db.scalar(select(ReportObject).where(ReportObject.from_reporter.is_(True),
                                                   ReportObject.kind == ObjectKind.MESSAGE))
    assert message.created_at is None  # never stored, so never shown
    listed = page.split('id="timeline-entries"')[1]
    reporter_item = listed.split('message--reporter-message">')[1].split("</li>")[0]
    assert f'<time datetime="{message.created_on.isoformat()}">' in reporter_item
    received_item = listed.split("Report received")[0].rsplit("<li", 1)[1]
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\d">', received_item)
    assert ":" not in re.sub(r"<[^>]+>", "", reporter_item).split("·")[0]  # no clock time


def test_filter_links_show_messages_or_notes_only(client, worked_case):
    page = client.get(worked_case).get_data(as_text=True)
    assert f'href="{worked_case}?show=messages#timeline"' in page
    assert f'href="{worked_case}?show=notes#timeline"' in page
    messages = timeline_of(client.get(f"{worked_case}?show=messages").get_data(as_text=True))
    assert [text for _kind, _meta, text in messages] == [
        "We have your report.", "The invoice is 4711-B.", "Thank you, we found it."]
    notes = timeline_of(client.get(f"{worked_case}?show=notes").get_data(as_text=True))
    assert [text for _kind, _meta, text in notes] == ["Check the tender file."]
    unknown = timeline_of(client.get(f"{worked_case}?show=<script>").get_data(as_text=True))
    assert len(unknown) == 13  # anything else shows all


def test_refused_changes_do_not_appear(client, case_with_file, sign_in, channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    post(client, f"{path}/status", path, status="closed")  # no outcome: refused
    texts = [text for _kind, _meta, text in timeline_of(client.get(path).get_data(as_text=True))]
    assert texts == ["Report received"]


def test_events_read_in_the_handlers_language(client, worked_case):
    """The history keeps codes; each reader gets the words of their own language."""
    texts = [text for _kind, _meta, text in timeline_of(
        client.get(f"{worked_case}?lang=fr").get_data(as_text=True))]
    assert any("Haute" in text for text in texts)
    assert any("Faits non établis" in text for text in texts)
    assert not any("not_substantiated" in text or "High" in text for text in texts)


def test_changes_from_before_the_history_keep_their_plain_names(
        client, db, case_with_file, sign_in, channel_with_handlers):
    """Migration 0016 copied earlier changes from the access log, which holds no values."""
    report = db.scalar(select(Report))
    db.add(CaseChange(report_id=report.id, action="case.status_changed", detail={},
                      actor_id=channel_with_handlers["hana"].public_id))
    db.commit()
    sign_in(channel_with_handlers["hana"])
    entries = timeline_of(client.get(f"/staff/cases/{case_with_file}").get_data(as_text=True))
    assert entries[-1][2] == "Status changed"
    assert "Hana" in entries[-1][1]


def test_a_purged_case_takes_its_history_with_it(db, worked_case):
    from datetime import date

    from reporting_portal.domain.retention import purge_expired_reports

    assert db.scalars(select(CaseChange)).first() is not None
    report = db.scalar(select(Report))
    purge_expired_reports(db, date.fromordinal(report.purge_after.toordinal() + 1))
    db.commit()
    assert db.scalars(select(CaseChange)).all() == []


def test_reopening_says_which_stage_the_case_returns_to(client, worked_case):
    post(client, f"{worked_case}/reopen", worked_case, reason="New invoices came to light.")
    entries = timeline_of(client.get(worked_case).get_data(as_text=True))
    assert [(kind, text) for kind, _meta, text in entries[-2:]] == [
        ("event", "Reopened. Stage: Closed → Assessment"),
        ("note", "New invoices came to light."),
    ]


def test_a_change_caused_by_a_reporters_item_follows_it_not_the_days_later_staff_items():
    day = date(2026, 12, 2)
    note = TimelineEntry(when=day, kind="note", author="Hana", text="before",
                         at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    report = TimelineEntry(when=day, kind="retaliation report", author="Reporter", text="r")
    later = TimelineEntry(when=day, kind="note", author="Hana", text="after",
                          at=datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    raised = TimelineEntry(when=day, kind="event", author="System", text="raised",
                           follows="retaliation report")
    received = TimelineEntry(when=day, kind="event", author="Reporter", text="received")
    ordered = in_order([note, report, later], [raised, received])
    assert [e.text for e in ordered] == ["received", "before", "r", "raised", "after"]
    # Without the item it follows (not readable, say), it ends its day.
    alone = in_order([note], [raised])
    assert [e.text for e in alone] == ["before", "raised"]
