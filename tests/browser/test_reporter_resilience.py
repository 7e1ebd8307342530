"""In Chromium: a reply typed while the session ran out survives a new sign-in, and a
report sent once cannot be sent again from the Back button (issue 11, item 7)."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from reporting_portal.storage.models import ObjectKind, Report, ReportObject
from tests.helpers import https_client
from tests.helpers.browser import SCREENSHOTS
from tests.helpers.reporting import decrypt_object, objects_of, send_report

pytestmark = [pytest.mark.browser, pytest.mark.database]

TYPED = "The deputy signed the invoice on 3 October.\nI kept a copy of the e-mail."


@pytest.fixture
def receipt(app, channel_with_handlers) -> str:
    return send_report(https_client(app))


@pytest.fixture
def end_session(app):
    def end() -> None:
        later = datetime.now(UTC) + timedelta(minutes=16)
        app.session_interface.clock = lambda: later

    yield end
    app.session_interface.clock = lambda: datetime.now(UTC)


def shot(page, name: str) -> None:
    """A full-page screenshot under tests/.screenshots (git-ignored), to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, code):
    page.get_by_label("Receipt code").fill(code)
    page.get_by_role("button", name="Open my mailbox").click()
    expect(page.get_by_role("heading", name="Your mailbox")).to_be_visible()


def messages(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(ReportObject).where(
        ReportObject.kind == ObjectKind.MESSAGE))


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_a_reply_typed_while_the_session_ended_is_not_lost(  # noqa: PLR0913, PLR0917 -- fixtures
    browser, app, live_server, receipt, end_session, db, settings, channel_with_handlers,
    javascript,
):
    context = browser.new_context(java_script_enabled=javascript,
                                  viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server}/followup")
    sign_in(page, receipt)
    page.get_by_label("Your message").fill(TYPED)
    end_session()  # the reporter went to find the e-mail and came back after 16 minutes
    page.get_by_role("button", name="Send").click()

    if javascript:
        # The script sent only ciphertext; the server cannot carry it. The text stays in
        # the box, and the page says why nothing was sent.
        expect(page.locator("#form-error")).to_contain_text(
            "Your session ended after 15 minutes without activity")
        expect(page.get_by_label("Your message")).to_have_value(TYPED)
        shot(page, "reply-session-ended-js")
        assert messages(db) == 0
        context.close()
        return

    expect(page.locator("#session-ended")).to_contain_text(
        "Your session ended after 15 minutes without activity, so your message was not sent.")
    expect(page.get_by_label("Your message (not sent yet)")).to_have_value(TYPED)
    shot(page, "reply-session-ended")
    assert messages(db) == 0

    end_session_over(app)
    sign_in(page, receipt)
    expect(page.get_by_label("Your message")).to_have_value(TYPED)
    shot(page, "reply-restored-after-sign-in")
    assert messages(db) == 0
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your message was sent.")).to_be_visible()
    [reply] = objects_of(db, db.scalar(select(Report)), ObjectKind.MESSAGE)
    assert b"The deputy signed the invoice" in decrypt_object(
        settings, reply, channel_with_handlers["hana"].identity)
    context.close()


def end_session_over(app):
    app.session_interface.clock = lambda: datetime.now(UTC)


def reports(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Report))


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_back_after_sending_does_not_send_the_report_again(
    browser, live_server, channel_with_handlers, db, recorded_bodies, javascript
):
    context = browser.new_context(java_script_enabled=javascript,
                                  viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server}/report/corruption")
    page.get_by_label("What happened?").fill("PLAINTEXT-ANSWER: the tender was rigged.")
    page.get_by_label("I found documents").check()
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", name="Your report was received")).to_be_visible()
    assert reports(db) == 1

    page.go_back()
    # On a shared computer, Back must not show what the reporter typed.
    expect(page.get_by_label("What happened?")).to_have_value("")
    expect(page.get_by_label("I found documents")).not_to_be_checked()
    shot(page, f"back-after-sending-{'js' if javascript else 'no-js'}")

    # Sending that same form again, exactly as the browser sent it, files nothing.
    path, body = next((p, b) for p, b in recorded_bodies.bodies if p == "/report/corruption")
    boundary = body.split(b"\r\n", 1)[0][2:].decode()
    again = context.request.post(
        f"{live_server}{path}", data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                 "Origin": live_server})
    assert again.status == 409
    assert "This report was already sent, so it was not sent again." in again.text()
    assert reports(db) == 1
    context.close()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_a_report_left_open_until_its_session_ended_can_still_be_sent(
    browser, app, live_server, channel_with_handlers, db, end_session, javascript
):
    context = browser.new_context(java_script_enabled=javascript,
                                  viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server}/report/corruption")
    page.get_by_label("What happened?").fill("PLAINTEXT-ANSWER: the tender was rigged.")
    page.get_by_label("I found documents").check()
    later = datetime.now(UTC) + timedelta(hours=3)
    app.session_interface.clock = lambda: later
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_text("its session ended, so nothing was sent")).to_be_visible()
    expect(page.get_by_label("What happened?")).to_have_value(
        "PLAINTEXT-ANSWER: the tender was rigged.")
    shot(page, f"report-session-ended-{'js' if javascript else 'no-js'}")
    assert reports(db) == 0
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", name="Your report was received")).to_be_visible()
    assert reports(db) == 1
    context.close()


def test_a_page_restored_from_the_back_forward_cache_is_emptied(page, live_server,
                                                                 channel_with_handlers):
    page.goto(f"{live_server}/report/corruption")
    page.get_by_label("What happened?").fill("PLAINTEXT-ANSWER: typed on a shared computer")
    page.get_by_label("I found documents").check()
    token = page.locator('input[name="submission_token"]').input_value()
    # What the browser fires when it shows this page again from its back-forward cache
    # (headless Chromium keeps no-store pages out of it, so the event is sent directly).
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    expect(page.get_by_label("What happened?")).to_have_value("")
    expect(page.get_by_label("I found documents")).not_to_be_checked()
    # The tokens stay: sending this page again is still refused as already sent.
    assert page.locator('input[name="submission_token"]').input_value() == token


def test_with_javascript_an_answer_of_only_spaces_is_not_sent(
    page, live_server, channel_with_handlers, db, recorded_bodies
):
    page.goto(f"{live_server}/report/corruption")
    page.get_by_label("What happened?").fill("   \n  ")
    page.get_by_label("I found documents").check()
    page.get_by_role("button", name="Send report").click()
    answer = page.get_by_label("What happened?")
    expect(answer).to_have_value("")
    assert answer.evaluate("el => el.validity.valueMissing")
    assert [p for p, _ in recorded_bodies.bodies if p == "/report/corruption"] == []
    assert reports(db) == 0
