"""``/healthz`` for load balancers: says "ok" when the database answers, nothing else."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import public

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@public
def healthz() -> tuple[str, int, dict[str, str]]:
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "unavailable\n", 503, {"Content-Type": "text/plain; charset=utf-8"}
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
