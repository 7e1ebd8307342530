"""The case handler's dashboard: aggregates over their own cases, drawn without JavaScript.

No audit event: the page names no report and shows no content, only counts over the
reports the handler may open anyway (the inbox lists the same cases one by one).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import render_template
from flask_babel import format_decimal
from flask_babel import gettext as _

from reporting_portal.staff.auth.viewer import current_viewer
from reporting_portal.staff.casework import bp
from reporting_portal.staff.casework.charts import bar_chart, weekly_chart
from reporting_portal.staff.casework.dashboard import WEEKS_SHOWN, dashboard_stats
from reporting_portal.storage.models import ReportStatus, Role
from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import staff


def status_names() -> dict[str, str]:
    """ISO 37002 stages as a person reads them, in the request's language."""
    return {
        ReportStatus.RECEIVED: _("Received"),
        ReportStatus.ACKNOWLEDGED: _("Acknowledged"),
        ReportStatus.ASSESSMENT: _("Assessment"),
        ReportStatus.INVESTIGATION: _("Investigation"),
        ReportStatus.CLOSED: _("Closed"),
    }


@bp.route("/dashboard")
@staff(Role.CASE_HANDLER)
def dashboard() -> str:
    today = datetime.now(UTC).date()
    stats = dashboard_stats(get_session(), current_viewer().account.id, today)
    names = status_names()
    by_status = [(names.get(status, status), count) for status, count in stats.by_status]
    reports = _("reports")
    median = stats.median_days_to_acknowledge
    return render_template(
        "casework/dashboard.html",
        stats=stats,
        by_status=by_status,
        median_days=None if median is None else format_decimal(median, format="#,##0.#"),
        weeks_chart=weekly_chart(
            _("Reports received per week, last %(weeks)d weeks", weeks=WEEKS_SHOWN),
            stats.per_week, value_axis_label=reports, category_axis_label=_("ISO week"),
        ),
        status_chart=bar_chart(_("Reports by status"), by_status, value_axis_label=reports),
        channel_chart=bar_chart(
            _("Reports by channel"), stats.by_channel, value_axis_label=reports
        ),
    )
