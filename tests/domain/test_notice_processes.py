"""Two app processes take reports at once, then two ``reporting-portal send-notices``
processes run at once: each recipient gets exactly one mail per window, on SQLite (WAL)
and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reporting_portal.storage.models import Channel, NoticeState, Report, Role, StaffAccount
from tests.helpers.notice_processes import take_reports
from tests.helpers.notices import outbox_rows

pytestmark = [pytest.mark.database, pytest.mark.slow, pytest.mark.starts_first]

REPORTS_PER_PROCESS = 4
EXTRA_HANDLERS = [f"handler{n}" for n in range(6)]
REPORTING_PORTAL = Path(sys.executable).parent / "reporting-portal"


@pytest.fixture
def many_handlers(app, db, make_staff, channel_with_handlers) -> list[str]:
    """The default channel's handlers, each with an address: the two of the channel
    fixture and six more, so the two senders have rows to compete for."""
    for name in EXTRA_HANDLERS:
        make_staff(name, Role.CASE_HANDLER)
    channel = db.scalar(select(Channel))
    for account in db.scalars(select(StaffAccount)):
        account.email = f"{account.username}@example.org"
        if account.username in EXTRA_HANDLERS:
            channel.handlers.append(account)
    db.commit()
    return sorted(f"{name}@example.org" for name in ["hana", "omar", *EXTRA_HANDLERS])


def send_notices_environment(settings, smtp_port: int) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("REPORTING_PORTAL_")}
    environment.update({
        "DATABASE_URL": settings.database_url,
        "REPORTING_PORTAL_INSTANCE_DIR": str(settings.instance_dir),
        "REPORTING_PORTAL_ENVIRONMENT": "test",
        "REPORTING_PORTAL_SECRET_KEY": settings.secret_key,
        "REPORTING_PORTAL_SMTP_HOST": "127.0.0.1",
        "REPORTING_PORTAL_SMTP_PORT": str(smtp_port),
        "REPORTING_PORTAL_SMTP_STARTTLS": "false",
        "REPORTING_PORTAL_NOTIFICATION_WINDOW_MINUTES": "0",
    })
    return environment


def test_two_app_processes_and_two_senders_make_one_mail_per_recipient_and_window(
    db, settings, mail_on, many_handlers
):
    mail_settings = settings.replace(smtp_host="127.0.0.1", smtp_port=mail_on.port,
                                     smtp_starttls=False)
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(2)
    apps = [spawn.Process(target=take_reports, args=(mail_settings, REPORTS_PER_PROCESS, start))
            for _ in range(2)]
    for process in apps:
        process.start()
    for process in apps:
        process.join(timeout=240)
    assert [process.exitcode for process in apps] == [0, 0]
    assert db.scalar(select(func.count()).select_from(Report)) == 2 * REPORTS_PER_PROCESS
    db.commit()  # holds no snapshot while the senders work

    environment = send_notices_environment(settings, mail_on.port)
    # One row per claim and a slow server, so the two runs take turns and race to claim.
    mail_on.collector.delay_seconds = 0.2
    senders = [subprocess.Popen([str(REPORTING_PORTAL), "send-notices", "--batch-size", "1"],
                                env=environment,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    outputs = [sender.communicate(timeout=120) for sender in senders]
    assert [sender.returncode for sender in senders] == [0, 0], outputs

    rows = outbox_rows(db)
    assert {row.state for row in rows} == {NoticeState.SENT}
    sent_by_runs = [int(re.search(r"^Sent (\d+),", out, re.M).group(1)) for out, _ in outputs]
    assert sum(sent_by_runs) == len(rows)
    windows: dict[int, int] = {}
    for row in rows:
        windows[row.staff_id] = windows.get(row.staff_id, 0) + 1
    addresses = dict(db.execute(select(StaffAccount.id, StaffAccount.email)).all())
    expected = sorted(addresses[staff_id] for staff_id, count in windows.items()
                      for _ in range(count))
    received = sorted(address for recipients, _raw in mail_on.collector.messages
                      for address in recipients)
    # Everyone with a grant heard, once per window of theirs (one window, unless the
    # reports straddled a minute), and nobody twice for the same window.
    assert sorted(set(received)) == many_handlers
    assert received == expected
