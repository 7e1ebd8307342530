"""Every route names who may reach it; a route without a rule is refused.

Views declare their rule with :func:`public`, :func:`signing_in` or :func:`staff`.
Enforcement happens before any view runs, so a forgotten decorator fails closed, and a
test walks the URL map to prove every endpoint has a rule (STYLE.md 15).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.audit.events import AuditAction, Outcome, primary_role, record_event
from reporting_portal.storage.models import Role
from reporting_portal.web.database import get_session

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Who may reach an endpoint.

    ``public``: anyone, including anonymous reporters. ``stage`` "signing_in" admits a
    staff member half-way through sign-in (second factor, first password).
    ``roles`` empty with ``public`` false: any fully signed-in staff member.
    ``when_expired``: for a reporter form, the view that answers a POST from a session
    without a mailbox (it ended while the reporter was typing) instead of a redirect
    that would drop what they typed.
    """

    public: bool = False
    stage: str = "signed_in"
    roles: frozenset[Role] = frozenset()
    when_expired: Callable[[], Any] | None = None

    def admits_staff(self, roles: frozenset[Role]) -> bool:
        """Whether a fully signed-in staff member holding ``roles`` may reach the endpoint."""
        return not self.public and self.stage == "signed_in" and (
            not self.roles or bool(self.roles & roles))

    def describe(self) -> str:
        if self.public:
            return "reporter (receipt code)" if self.stage == "reporter" else "public"
        if self.stage != "signed_in":
            return f"staff ({self.stage})"
        return "staff: " + (", ".join(sorted(self.roles)) or "any role")


_ATTRIBUTE = "access_rule"
PUBLIC = AccessRule(public=True)


def _attach(rule: AccessRule) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        setattr(view, _ATTRIBUTE, rule)
        return view

    return decorate


def public(view: View) -> View:
    """Anyone may reach this view; it must not reveal anything about staff or reports."""
    return _attach(PUBLIC)(view)


REPORTER = AccessRule(public=True, stage="reporter")


def reporter(view: View) -> View:
    """A reporter who opened their mailbox with a receipt code in this session."""
    return _attach(REPORTER)(view)


def reporter_keeping_text(when_expired: Callable[[], Any]) -> Callable[[View], View]:
    """As :func:`reporter`, for a form whose text must survive an ended session: a POST
    that arrives without a mailbox is answered by ``when_expired`` (a view that reads the
    body itself, stores nothing and shows the text again), never by the form's view.
    It sees the same thing whether or not any report exists."""
    return _attach(AccessRule(public=True, stage="reporter", when_expired=when_expired))


def signing_in(view: View) -> View:
    """A staff member whose password was accepted, still completing sign-in."""
    return _attach(AccessRule(stage="signing_in"))(view)


def staff(*roles: Role) -> Callable[[View], View]:
    """A signed-in staff member holding any of ``roles`` (any role when none is named)."""
    return _attach(AccessRule(roles=frozenset(roles)))


def declare_public(app: Flask, endpoint: str) -> None:
    """Mark a built-in endpoint (such as ``static``) as public."""
    app.extensions.setdefault("access_rules", {})[endpoint] = PUBLIC


def rule_for(app: Flask, endpoint: str) -> AccessRule | None:
    declared: dict[str, AccessRule] = app.extensions.get("access_rules", {})
    if endpoint in declared:
        return declared[endpoint]
    view = app.view_functions.get(endpoint)
    rule: AccessRule | None = getattr(view, _ATTRIBUTE, None)
    return rule


def staff_may_reach(app: Flask, endpoint: str, roles: frozenset[Role]) -> bool:
    """Whether staff holding ``roles`` may reach ``endpoint`` in ``app``: the rule that
    guards the route decides, so a link is offered only where it leads (and a route this
    app does not serve, or one without a rule, is never offered)."""
    rule = rule_for(app, endpoint) if endpoint in app.view_functions else None
    return rule is not None and rule.admits_staff(roles)


def enforce_access_rule() -> BaseResponse | None:
    """Runs before every view: refuse unless the endpoint's rule admits the requester."""
    if request.endpoint is None:
        return None  # no route matched: Flask answers 404 or 405 itself
    rule = rule_for(current_app, request.endpoint)
    if rule is None:
        current_app.logger.error("endpoint without an access rule: %s", request.endpoint)
        abort(403)
    if rule.stage == "reporter":
        if isinstance(session.get("report_id"), str):
            return None
        if rule.when_expired is not None and request.method == "POST":
            return current_app.make_response(rule.when_expired())
        return redirect(url_for("followup.sign_in"))
    return None if rule.public else _check_staff(rule)


def _check_staff(rule: AccessRule) -> BaseResponse | None:
    viewer = g.get("staff_viewer")
    if viewer is None:
        return redirect(url_for("auth.sign_in"))
    if rule.stage == "signing_in":
        return None
    if viewer.stage != "signed_in":
        return redirect(url_for("auth.continue_sign_in"))
    if not rule.admits_staff(viewer.account.role_set):
        # Kept: a member of staff probing beyond their role is what auditors look for.
        record_event(get_session(), AuditAction.STAFF_ACCESS_DENIED, actor=viewer.account,
                     actor_role=primary_role(viewer.account), outcome=Outcome.DENIED)
        abort(403)
    return None


def init_access_rules(app: Flask) -> None:
    declare_public(app, "static")
    app.before_request(enforce_access_rule)
