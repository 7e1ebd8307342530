"""Reports stored through the intake service (no page involved), for inbox tests."""

from flask import Flask
from sqlalchemy import select

from reporting_portal.reporter.intake.services import Submission, submit_report
from reporting_portal.reporter.intake.views import receipt_params
from reporting_portal.storage.models import Channel
from reporting_portal.web.database import get_database
from reporting_portal.web.extensions import get_blob_store


def submit_reports(app: Flask, channel_slug: str, count: int) -> list[str]:
    """``count`` reports to the channel, each in its own transaction: their public ids,
    in the order (and so with the case numbers) they were received."""
    public_ids = []
    for index in range(count):
        with app.app_context(), get_database(app).session_factory() as db:
            channel = db.scalar(select(Channel).where(Channel.slug == channel_slug))
            report, _code = submit_report(
                db, get_blob_store(), channel=channel,
                submission=Submission(excluded_ids=set(), files=[],
                                      answers={"what": f"Report {index + 1}."}),
                receipt_params=receipt_params())
            db.commit()
            public_ids.append(report.public_id)
    return public_ids
