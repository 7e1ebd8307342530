"""Casework: the case handler's inbox, case view, workflow, messages, notes and export."""

from flask import Blueprint

bp = Blueprint("casework", __name__, url_prefix="/staff/cases", template_folder="templates")

from reporting_portal.staff.casework import (  # noqa: E402, F401 -- routes
    bulk_views,
    cleaned_views,
    dashboard_views,
    protection_views,
    triage_views,
    views,
    workflow_views,
)
