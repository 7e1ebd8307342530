"""WCAG 2.2 AA, checked by axe-core on every reporter and staff page (issue 14).

Each page in English and in Arabic (right to left), with JavaScript on and off: no
serious or critical violation. axe-core is the npm package pinned in tests/a11y
(``make install`` runs ``npm ci`` there). Pages are reached as people reach them: a
report sent through the form, its receipt, the follow-up, then each staff role signed in.

Without JavaScript the page is loaded in a context with scripts disabled; axe itself needs
scripts (and timers), so the DOM that context rendered is then checked in a second,
scripted page at the same address, with the page's own scripts removed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from reporting_portal.storage.models import Channel, IdentityAccessRequest, Role
from tests.helpers.custody import ask
from tests.helpers.staff import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.database]

AXE = Path(__file__).resolve().parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        message = f"{AXE} is missing: run make install (npm ci in tests/a11y)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


class Checker:
    """Visits pages in one context and collects axe's serious and critical findings."""

    def __init__(self, browser, axe_source: str, base: str, language: str, scripts: bool):
        self.base, self.language, self.scripts = base, language, scripts
        self.axe_source = axe_source
        self.context = browser.new_context(java_script_enabled=scripts, bypass_csp=scripts,
                                           viewport={"width": 1100, "height": 800})
        self.page = self.context.new_page()
        # Without scripts, axe runs here, on the DOM the scriptless page rendered: one
        # page for every check (a new page per check cost more than axe's run).
        self.analysis_context = None if scripts else browser.new_context(bypass_csp=True)
        self.analysis_page = None if scripts else self.analysis_context.new_page()
        self.findings: list[str] = []
        self.checked: list[str] = []

    def url(self, path: str) -> str:
        joiner = "&" if "?" in path else "?"
        return f"{self.base}{path}{joiner}lang={self.language}"

    def visit(self, path: str) -> None:
        self.page.goto(self.url(path))
        self.check(path)

    def check(self, label: str) -> None:
        """Run axe on what the page shows now."""
        expect(self.page.locator("html")).to_have_attribute("lang", re.compile(r"^(en|ar)"))
        if self.scripts:
            target = self.page
        else:
            target = self.analysis_page
            html = SCRIPT.sub("", self.page.content())
            address = self.page.url
            # Only the page itself is replaced; its stylesheets and images load as usual.
            target.route(address, lambda route: route.fulfill(
                body=html, content_type="text/html; charset=utf-8"))
            target.goto(address)
            target.unroute(address)
        target.evaluate(self.axe_source)
        violations = target.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
            " targets: v.nodes.map(n => n.target.join(' ')).slice(0, 3)})))",
            WCAG_TAGS)
        self.checked.append(label)
        self.findings += [f"{label}: {v['id']} ({v['impact']}) at {', '.join(v['targets'])}"
                          for v in violations if v["impact"] in BLOCKING]

    def submit(self, form_selector: str = "main form") -> None:
        self.page.locator(f"{form_selector} [type=submit]").last.click()
        self.page.wait_for_load_state()

    def close(self) -> None:
        self.context.close()
        if self.analysis_context is not None:
            self.analysis_context.close()


@pytest.fixture
def world(app, db, full_case, channel_with_handlers, make_staff, client):
    """A case with an identity request pending, and a member of staff for every role."""
    members = dict(channel_with_handlers)
    members["audra"] = make_staff("audra", Role.AUDITOR)
    members["ada"] = make_staff("ada", Role.ADMINISTRATOR)
    # Omar asks; hana signs in through the pages (a TOTP step is good for one sign-in).
    ask(signed_in(app, members["omar"]), full_case)
    request_id = db.scalar(select(IdentityAccessRequest.public_id))
    channel_id = db.scalar(select(Channel.public_id))
    return {"case": full_case, "request": request_id, "channel": channel_id, "members": members}


@pytest.fixture(params=[("en", True), ("en", False), ("ar", True), ("ar", False)],
                ids=["en-js", "en-nojs", "ar-js", "ar-nojs"])
def checker(request, browser, axe_source, live_server) -> Iterator[Checker]:
    language, scripts = request.param
    checker = Checker(browser, axe_source, live_server, language, scripts)
    yield checker
    checker.close()


def reporter_journey(checker: Checker) -> None:
    page = checker.page
    checker.visit("/")
    checker.visit("/verify")  # checking a proof of receipt (issue 17)
    checker.visit("/report")
    checker.visit("/report/corruption")
    if not checker.scripts:
        checker.submit()  # empty: the errors, tied to their fields
        checker.check("/report/corruption (errors)")
    page.locator("[name=q_what]").fill("The tender was rigged.")
    page.locator("[name=q_where]").fill("Ministry of Works")
    page.locator("[name=q_kind]").first.check()
    page.locator("[name=q_how_known]").first.check()
    checker.submit()
    expect(page.locator("#receipt-code")).to_be_visible()
    checker.check("/report/receipt")
    code = page.locator("#receipt-code").inner_text()
    page.locator("[name=written_down]").check()
    checker.submit()
    checker.check("/report/thanks")
    checker.visit("/followup")
    page.locator("[name=code]").fill("1234 5678 9012 3456 7890 1234 5678")
    checker.submit()
    expect(page.locator("[name=code]")).to_have_attribute("aria-invalid", "true")
    checker.check("/followup (error)")
    page.locator("[name=code]").fill(code)
    checker.submit()
    expect(page.locator("[name=sign_out_form], form[action$='sign-out']")).to_have_count(1)
    checker.check("/followup/mailbox")
    checker.visit("/followup/sent")  # "What I sent" (issue 15)
    checker.visit("/followup/mailbox/retaliation")  # "Report retaliation" (issue 17)
    if not checker.scripts:
        checker.submit("#report-form")  # empty: the refusal, above the form
        checker.check("/followup/mailbox/retaliation (error)")
    page.goto(checker.url("/followup/mailbox"))  # its sign-out button
    checker.submit("form[action$='sign-out']")
    checker.check("/followup (signed out)")
    checker.visit("/no-such-page")


def staff_sign_in(checker: Checker, member) -> None:
    checker.context.clear_cookies()
    page = checker.page
    page.goto(checker.url("/staff/sign-in"))
    page.locator("[name=username]").fill(member.username)
    page.locator("[name=password]").fill(member.password)
    page.locator("[name=code]").fill(member.code())
    checker.submit()
    expect(page.locator("form[action$='sign-out']")).to_have_count(1)


def staff_journey(checker: Checker, world) -> None:
    members, case = world["members"], world["case"]
    page = checker.page
    checker.visit("/staff/sign-in")
    page.locator("[name=username]").fill("nobody")
    page.locator("[name=password]").fill("wrong password, certainly")
    checker.submit()
    checker.check("/staff/sign-in (refused)")

    staff_sign_in(checker, members["hana"])
    for path in ("/staff/", "/staff/cases", f"/staff/cases/{case}", "/staff/cases/dashboard",
                 "/staff/account/password", "/staff/account/key", "/staff/account/passkeys"):
        checker.visit(path)
    staff_sign_in(checker, members["cleo"])
    for path in ("/staff/", "/staff/identity-requests",
                 f"/staff/identity-requests/{world['request']}"):
        checker.visit(path)
    staff_sign_in(checker, members["audra"])
    for path in ("/staff/audit", "/staff/audit/events/0", "/staff/audit/check-head"):
        checker.visit(path)
    staff_sign_in(checker, members["ada"])
    for path in ("/staff/admin/accounts", "/staff/admin/accounts/new", "/staff/admin/channels",
                 "/staff/admin/channels/new", f"/staff/admin/channels/{world['channel']}",
                 "/staff/admin/labels"):
        checker.visit(path)
    # The questionnaire editor's own pages (issue 15): a question, the preview in Arabic.
    for path in (f"/staff/admin/channels/{world['channel']}/questions/what",
                 f"/staff/admin/channels/{world['channel']}/preview?language=ar"):
        checker.visit(path)
    # The own-account page, a staff error page, and an expired staff form.
    for path in ("/staff/account", "/staff/no-such-page"):
        checker.visit(path)
    page.goto(checker.url("/staff/admin/labels"))
    page.locator("[name=name]").fill("typed before the session ended")
    checker.context.clear_cookies()
    checker.submit("main form.stack")
    expect(page.locator("#kept-1")).to_have_value("typed before the session ended")
    checker.check("/staff/admin/labels (expired form)")


@pytest.mark.starts_first
def test_every_page_has_no_serious_accessibility_violation(checker, world):
    reporter_journey(checker)
    staff_journey(checker, world)
    assert len(checker.checked) >= 30
    assert checker.findings == [], "\n".join(checker.findings)


@pytest.mark.parametrize("scripts", [True, False], ids=["js", "nojs"])
def test_the_check_finds_a_missing_label_and_low_contrast(browser, axe_source, live_server,
                                                          scripts):
    checker = Checker(browser, axe_source, live_server, "en", scripts)
    broken = ('<!doctype html><html lang="en"><title>Broken</title><main><h1>Broken</h1>'
              '<p style="color:#bbb;background:#fff">Faint text</p><input name="code">'
              '</main></html>')
    checker.page.route(f"{live_server}/broken*", lambda route: route.fulfill(
        body=broken, content_type="text/html"))
    checker.visit("/broken")
    checker.close()
    found = " ".join(checker.findings)
    assert "label" in found
    assert "color-contrast" in found
