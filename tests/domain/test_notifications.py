"""E-mail notices to case handlers, against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import time
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from reporting_portal.domain.notifications import (
    Notifier,
    init_notifications,
    next_window_start,
    notify_new_items,
    send_pending_notifications,
    stop_notifications,
    wait_for_notifications,
)
from reporting_portal.storage.models import CaseRead, Channel, Report, ReportObject, StaffAccount
from reporting_portal.web.database import get_session
from tests.helpers.reporting import REPORT_FORM, plaintext_form, receipt_code_from

pytestmark = pytest.mark.database

ADDRESSES = {"hana": "hana@example.org", "omar": "omar@example.org", "cleo": "cleo@example.org"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every message it accepts."""

    messages: list[tuple[list[str], bytes]] = field(default_factory=list)

    # aiosmtpd calls this hook by its upper-case name.
    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, collector
    finally:
        controller.stop()


@pytest.fixture
def notifying_app(app):
    """The app with a notifier (until the factory makes one itself), stopped afterwards."""
    if "notifier" not in app.extensions:
        init_notifications(app)
    yield app
    stop_notifications(app)


def use_smtp(app, **changes):
    app.extensions["settings"] = app.extensions["settings"].replace(**changes)


def give_addresses(db, names):
    for name in names:
        account = db.scalar(select(StaffAccount).where(StaffAccount.username == name))
        account.email = ADDRESSES[name]
    db.commit()


def submit(client) -> str:
    """Submit a report through the real no-JavaScript form; return its receipt code."""
    response = client.post(REPORT_FORM, data=plaintext_form(client),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    return receipt_code_from(client.get("/report/receipt").get_data(as_text=True))


def notify_about(app, public_id: str | None = None) -> None:
    """What the intake and follow-up views will do: note, commit, then queue."""
    with app.test_request_context():
        db = get_session()
        query = select(Report).order_by(Report.id.desc())
        if public_id is not None:
            query = query.where(Report.public_id == public_id)
        notify_new_items(db, db.scalars(query).first())
        db.commit()
        send_pending_notifications()


def received(collector) -> dict[str, email.message.EmailMessage]:
    by_address = {}
    for recipients, raw in collector.messages:
        [address] = recipients
        assert address not in by_address, f"two mails to {address}"
        by_address[address] = email.message_from_bytes(raw, policy=email.policy.default)
    return by_address


def test_each_handler_with_an_address_gets_one_contentless_notice(
    notifying_app, client, db, smtp_server, channel_with_handlers
):
    port, collector = smtp_server
    use_smtp(notifying_app, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    give_addresses(db, ["hana", "omar", "cleo"])
    receipt_code = submit(client)  # the intake view notes the notices; the commit sends them
    assert wait_for_notifications(notifying_app, timeout=10)

    mails = received(collector)
    # The custodian has no grant on the report: no notice.
    assert sorted(mails) == ["hana@example.org", "omar@example.org"]
    organisation = notifying_app.extensions["settings"].organisation_name
    for mail in mails.values():
        assert mail["Subject"] == f"{organisation}: new items"
        assert mail.get_content().strip() == (
            f"You have 1 new item waiting in {organisation}. Sign in to read them.")

    report = db.scalar(select(Report))
    channel = db.scalar(select(Channel))
    answers = plaintext_form(client)
    leaks = [report.public_id, channel.name, channel.slug, channel.public_id,
             receipt_code.replace(" ", ""), answers["q_what"], answers["q_where"], "/staff/cases"]
    for _recipients, raw in collector.messages:
        text = raw.decode("utf-8", "replace")
        for leak in leaks:
            assert leak not in text


def test_the_count_is_of_cases_with_unread_reporter_activity(
    notifying_app, client, db, smtp_server, channel_with_handlers
):
    port, collector = smtp_server
    use_smtp(notifying_app, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    give_addresses(db, ["hana", "omar"])
    submit(client)
    assert wait_for_notifications(notifying_app, timeout=10)
    collector.messages.clear()
    first = db.scalar(select(Report))
    # Hana has read the first report up to its newest object; Omar has not opened it.
    hana = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    newest = db.scalar(select(func.max(ReportObject.id)).where(ReportObject.report_id == first.id))
    db.add(CaseRead(report_id=first.id, staff_id=hana.id, last_object_id=newest))
    db.commit()

    submit(client)
    assert wait_for_notifications(notifying_app, timeout=10)

    bodies = {address: mail.get_content() for address, mail in received(collector).items()}
    assert "You have 1 new item waiting" in bodies["hana@example.org"]
    assert "You have 2 new items waiting" in bodies["omar@example.org"]


def test_inactive_handlers_and_handlers_without_address_get_nothing(
    notifying_app, client, db, smtp_server, channel_with_handlers
):
    port, collector = smtp_server
    use_smtp(notifying_app, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    give_addresses(db, ["omar"])  # Hana has no address
    submit(client)
    assert wait_for_notifications(notifying_app, timeout=10)
    collector.messages.clear()
    db.scalar(select(StaffAccount).where(StaffAccount.username == "omar")).is_active = False
    db.commit()

    notify_about(notifying_app)
    assert wait_for_notifications(notifying_app, timeout=10)
    assert collector.messages == []


def test_without_smtp_host_nothing_is_sent_and_nothing_fails(
    notifying_app, client, db, smtp_server, channel_with_handlers
):
    port, collector = smtp_server
    use_smtp(notifying_app, smtp_host="", smtp_port=port, smtp_starttls=False)
    give_addresses(db, ["hana", "omar"])
    submit(client)

    notify_about(notifying_app)
    assert wait_for_notifications(notifying_app, timeout=1)
    assert collector.messages == []


def test_nothing_is_queued_when_the_request_does_not_commit(
    notifying_app, client, db, smtp_server, channel_with_handlers
):
    port, collector = smtp_server
    use_smtp(notifying_app, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    give_addresses(db, ["hana"])
    submit(client)
    assert wait_for_notifications(notifying_app, timeout=10)
    collector.messages.clear()
    with notifying_app.test_request_context():
        session = get_session()
        notify_new_items(session, session.scalars(select(Report)).one())
        session.rollback()  # the commit hook never reaches send_pending_notifications
    with notifying_app.test_request_context():
        send_pending_notifications()  # a later request has nothing pending
    assert wait_for_notifications(notifying_app, timeout=1)
    assert collector.messages == []


def test_an_unreachable_mail_server_is_logged_without_the_address(
    notifying_app, client, db, channel_with_handlers, caplog
):
    use_smtp(notifying_app, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_starttls=False)
    give_addresses(db, ["hana"])
    with caplog.at_level(logging.WARNING):
        submit(client)
        assert wait_for_notifications(notifying_app, timeout=15)
    [record] = [r for r in caplog.records if "notification" in r.getMessage()]
    assert record.getMessage() == "notification e-mail not sent: ConnectionRefusedError"
    assert "hana@example.org" not in caplog.text


def test_custodians_hear_of_a_waiting_identity_request_and_nothing_else(
    notifying_app, client, db, smtp_server, channel_with_handlers
):
    from tests.helpers.custody import JUSTIFICATION, ask
    from tests.helpers.staff import signed_in

    port, collector = smtp_server
    client.post(REPORT_FORM, data=plaintext_form(client, identity_name="Ada"),
                content_type="multipart/form-data")
    use_smtp(notifying_app, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    give_addresses(db, ["hana", "cleo"])
    case_id = db.scalar(select(Report.public_id))
    assert ask(signed_in(notifying_app, channel_with_handlers["hana"]), case_id).status_code == 302
    assert wait_for_notifications(notifying_app, timeout=10)
    mails = received(collector)
    assert sorted(mails) == ["cleo@example.org"]
    text = mails["cleo@example.org"].get_content()
    assert "1 new item" in text
    for leak in (case_id, JUSTIFICATION[:30], "Hana", "identity"):
        assert leak not in text


def test_windows_are_fixed_on_the_clock():
    assert next_window_start(3600 * 5 + 1, 60) == 3600 * 6
    assert next_window_start(3600 * 6, 60) == 3600 * 7  # a boundary: the next one
    assert next_window_start(3600 * 6 - 1, 15) == 3600 * 6


def test_notices_wait_for_the_window_and_go_out_together_with_the_newest_count(
    notifying_app, client, db, smtp_server, channel_with_handlers
):
    port, collector = smtp_server
    use_smtp(notifying_app, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
             notification_window_minutes=60)
    give_addresses(db, ["hana"])
    submit(client)
    submit(client)
    assert wait_for_notifications(notifying_app, timeout=1)
    assert collector.messages == []  # held until the top of the hour, not sent at once
    notifying_app.extensions["notifier"].release_held()  # what the boundary does
    assert wait_for_notifications(notifying_app, timeout=10)
    mails = received(collector)
    assert sorted(mails) == ["hana@example.org"]  # one mail for both reports
    assert "You have 2 new items" in mails["hana@example.org"].get_content()


def test_the_boundary_releases_held_notices_by_itself(app, client, db, smtp_server,
                                                     channel_with_handlers):
    port, collector = smtp_server
    # A clock always a fifth of a second before a boundary: the window closes at once.
    app.extensions["notifier"] = Notifier(
        app, clock=lambda: (time.time() // 3600 + 1) * 3600 - 0.2)
    try:
        use_smtp(app, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                 notification_window_minutes=60)
        give_addresses(db, ["hana"])
        submit(client)
        deadline = time.monotonic() + 10
        while not collector.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [recipients for recipients, _ in collector.messages] == [["hana@example.org"]]
    finally:
        stop_notifications(app)
