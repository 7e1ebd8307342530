"""``/favicon.ico``: browsers and feed readers ask for it whatever the page links to, and
a 404 there is a console error on every first visit (issue 15). Pages link the SVG in
``static/`` themselves; this answers the old name with the same file, from this site."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, send_from_directory

from reporting_portal.web.security.access import public

bp = Blueprint("favicon", __name__)


@bp.route("/favicon.ico")
@public
def favicon() -> Response:
    static_folder = current_app.static_folder
    if static_folder is None:  # the factory always sets one; this keeps mypy honest
        raise LookupError("the app has no static folder")
    return send_from_directory(static_folder, "favicon.svg", mimetype="image/svg+xml",
                               max_age=86400)
