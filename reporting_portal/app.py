"""The application factory.

``create_app(settings, surface=...)`` builds one of three applications from the same
parts: the reporter app (public pages only), the staff app (handlers, custodians,
auditors, administrators), or both together for development. Each public surface can
then sit behind its own address and onion service, and the reporter app has no staff
route at all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from flask import Flask, g
from flask_babel import get_locale

from config.settings import Settings
from reporting_portal.audit.log import TreeHeadSigner, install_audit_log
from reporting_portal.domain.case_words import TEMPLATE_GLOBALS as CASE_WORDS
from reporting_portal.domain.objects import install_blob_cleanup
from reporting_portal.domain.passwords import PasswordService
from reporting_portal.reporter import followup, intake, landing, verify
from reporting_portal.staff import admin, auth, casework, custody, home, referral
from reporting_portal.staff.auditor import views as auditor_views
from reporting_portal.staff.auth.forms import SignOutForm
from reporting_portal.staff.auth.viewer import load_staff_viewer
from reporting_portal.storage.blobstore import open_blob_store
from reporting_portal.storage.db import Database, PoolSettings
from reporting_portal.web import favicon, health
from reporting_portal.web.database import commit_request_session, init_database
from reporting_portal.web.errors import PortalFlask, init_error_handlers
from reporting_portal.web.extensions import babel, csrf
from reporting_portal.web.formatting import init_formatting
from reporting_portal.web.languages import LANGUAGES, language, language_url, select_locale
from reporting_portal.web.security.access import init_access_rules
from reporting_portal.web.security.headers import init_security_headers
from reporting_portal.web.security.rate_limit import RateLimits
from reporting_portal.web.sessions import ServerSessionInterface

Surface = Literal["combined", "reporter", "staff"]


def create_app(settings: Settings, surface: Surface = "combined") -> Flask:
    app = PortalFlask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_form_bytes,
        # The CSRF token lives in the server-side session, whose timeouts bound it.
        WTF_CSRF_TIME_LIMIT=None,
        # Flask-WTF's strict mode wants a Referer, which Referrer-Policy: no-referrer
        # withholds on purpose; the token and SameSite=Strict cookies do the work.
        WTF_CSRF_SSL_STRICT=False,
        TEMPLATES_AUTO_RELOAD=settings.environment == "development",
        BABEL_DEFAULT_LOCALE="en",
        TESTING=settings.environment == "test",
    )
    app.extensions["settings"] = settings
    app.extensions["passwords"] = PasswordService(settings)
    app.extensions["blob_store"] = open_blob_store(settings)
    app.extensions["surface"] = surface
    database = Database(settings.database_url, PoolSettings.from_settings(settings))
    install_audit_log(database.session_factory, TreeHeadSigner(settings.audit_key_file))
    install_blob_cleanup(database.session_factory, app.extensions["blob_store"])
    init_database(app, database)
    app.extensions["rate_limits"] = RateLimits(database.engine, settings.secret_key)
    app.session_interface = ServerSessionInterface(
        staff_idle=timedelta(minutes=settings.staff_idle_minutes),
        staff_absolute=timedelta(hours=settings.staff_absolute_hours),
        reporter_idle=timedelta(minutes=settings.reporter_idle_minutes),
    )

    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    init_formatting(app)
    init_security_headers(app)
    init_error_handlers(app)

    app.register_blueprint(health.bp)
    app.register_blueprint(favicon.bp)
    if surface in ("combined", "reporter"):
        app.register_blueprint(landing.bp)
        app.register_blueprint(intake.bp)
        app.register_blueprint(followup.bp)
        app.register_blueprint(verify.bp)
    if surface in ("combined", "staff"):
        # Before CSRF protection (second only to the session-fault check), so that the
        # page for an expired form knows whether the person is still signed in.
        app.before_request_funcs.setdefault(None, []).insert(1, load_staff_viewer)
        app.register_blueprint(auth.bp)
        app.register_blueprint(home.bp)
        app.register_blueprint(admin.bp)
        app.register_blueprint(casework.bp)
        app.register_blueprint(custody.bp)
        app.register_blueprint(referral.bp)
        app.register_blueprint(auditor_views.bp)
    # Registered after the viewer loader, so rules see who is asking.
    init_access_rules(app)
    app.after_request(_commit)
    app.jinja_env.globals.update(CASE_WORDS)

    @app.context_processor
    def _template_globals() -> dict[str, object]:
        viewer = g.get("staff_viewer")
        page_language = language(str(get_locale() or "en"))
        return {
            "organisation_name": settings.organisation_name,
            "viewer": viewer,
            "sign_out_form": SignOutForm() if viewer is not None else None,
            "page_language": page_language,
            "html_lang": page_language.tag,
            "text_direction": page_language.direction,
            "languages": LANGUAGES,
            "language_url": language_url,
        }

    return app


def _commit(response: object) -> object:
    """Commit the request's one transaction at the boundary (STYLE.md 6)."""
    commit_request_session()
    return response
