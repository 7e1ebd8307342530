"""Where a signed-in member of staff can go: the header's links and the home page's cards.

One list for both, filtered by the access rules that guard the routes themselves
(web/security/access.py), so a link is shown exactly when following it would be allowed
and no template repeats the role logic.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from reporting_portal.staff.home import bp
from reporting_portal.web.security.access import staff_may_reach


@dataclass(frozen=True)
class Destination:
    """A page of the staff surface. ``within``: other endpoints that belong to it (a case
    belongs to the cases), so the header marks where the person is."""

    key: str
    endpoint: str
    label: LazyString
    description: LazyString
    within: tuple[str, ...] = ()

    def holds(self, endpoint: str | None) -> bool:
        return endpoint is not None and (endpoint == self.endpoint or any(
            endpoint == entry or (entry.endswith(".") and endpoint.startswith(entry))
            for entry in self.within))


# Header order: daily work first, then oversight, administration and one's own account.
DESTINATIONS = (
    Destination("cases", "casework.inbox", _l("Cases"),
                _l("The reports assigned to you: triage, questions to reporters, notes, "
                   "deadlines."),
                within=("casework.", "referral.")),
    Destination("dashboard", "casework.dashboard", _l("Dashboard"),
                _l("Figures over the reports you have access to: stages, channels and "
                   "deadlines.")),
    Destination("identity_requests", "custody.requests", _l("Identity requests"),
                _l("Case handlers' requests to learn who reported: approve or deny each, "
                   "with a reason."),
                within=("custody.",)),
    Destination("access_log", "audit.log", _l("Access log"),
                _l("Who read or changed what, and when; proofs that nobody rewrote the "
                   "record."),
                within=("audit.",)),
    Destination("accounts", "admin.accounts", _l("Accounts"),
                _l("Create accounts, reset two-factor sign-in, deactivate people who left."),
                within=("admin.new_account", "admin.account_action")),
    Destination("channels", "admin.channels", _l("Channels"),
                _l("Intake forms: their questionnaires and the case handlers who receive "
                   "them."),
                within=("admin.new_channel", "admin.edit_channel", "admin.add_channel_question",
                        "admin.edit_channel_question", "admin.change_channel_question")),
    Destination("labels", "admin.labels", _l("Labels"),
                _l("The labels case handlers can put on cases."),
                within=("admin.remove_label",)),
    Destination("authorities", "admin.authorities", _l("Authorities"),
                _l("The competent authorities cases can be referred to, and their keys."),
                within=("admin.new_authority", "admin.edit_authority")),
    Destination("account", "staff_home.account", _l("Your account"),
                _l("Your password, your key, and your identity file for exported cases."),
                within=("auth.change_password", "auth.rotate_key", "auth.continue_key_rotation",
                        "casework.identity_file")),
)
# Pages that also match a broader entry of an earlier destination ("casework." holds the
# dashboard): the most specific destination wins.
_SPECIFIC_FIRST = sorted(DESTINATIONS, key=lambda d: any(e.endswith(".") for e in d.within))


@dataclass(frozen=True)
class NavigationLink:
    destination: Destination
    current: bool  # this very page
    inside: bool  # a page that belongs to it


def staff_navigation() -> list[NavigationLink]:
    """The destinations the signed-in member of staff may reach, in header order; empty
    for anyone else (half-way through sign-in, or nobody)."""
    viewer = g.get("staff_viewer")
    if viewer is None or viewer.stage != "signed_in":
        return []
    roles = viewer.account.role_set
    reachable = [d for d in DESTINATIONS if staff_may_reach(current_app, d.endpoint, roles)]
    endpoint = request.endpoint
    holder = next((d for d in _SPECIFIC_FIRST if d in reachable and d.holds(endpoint)), None)
    return [NavigationLink(destination=d, current=d.endpoint == endpoint,
                           inside=d is holder) for d in reachable]


@bp.app_context_processor
def _navigation_globals() -> dict[str, object]:
    # A function, not a list: reporter pages of the combined app never call it.
    return {"staff_navigation": staff_navigation}
