"""A reporter in Arabic, and a reporter with a keyboard alone (issue 14).

In Arabic the page runs right to left, the receipt code stays in ASCII digits, left to
right, and a screen reader gets it as a list of seven groups; the reporter signs in to the
follow-up typing the code in Arabic-Indic digits and reads the handler's reply.

With the keyboard alone, focus moves only by Tab and Shift+Tab; Space ticks, Enter sends.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from reporting_portal.storage.models import Report
from tests.helpers.client import csrf_token
from tests.helpers.staff import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.database]

ARABIC_INDIC_ZERO = 0x0660
REPLY = "REPLY-7731: which ministry department signed the tender?"


def in_arabic_indic(code: str) -> str:
    return "".join(chr(ARABIC_INDIC_ZERO + int(digit)) if digit.isdigit() else digit
                   for digit in code)


def test_a_reporter_in_arabic_signs_in_with_arabic_indic_digits_and_reads_the_reply(
    app, db, page, live_server, channel_with_handlers
):
    page.goto(f"{live_server}/report/corruption?lang=ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.locator("[name=q_what]").fill("The tender was rigged.")
    page.locator("[name=q_where]").fill("Ministry of Works")
    page.locator("[name=q_kind]").first.check()
    page.locator("[name=q_how_known]").first.check()
    page.locator("main form [type=submit]").click()

    receipt = page.locator("#receipt-code")
    expect(receipt).to_have_attribute("dir", "ltr")
    groups = receipt.get_by_role("listitem").all_inner_texts()
    assert len(groups) == 7
    assert all(re.fullmatch(r"[0-9]{4}", group) for group in groups)
    # What a screen reader is given: a named list, one item per group of four.
    snapshot = receipt.aria_snapshot()
    assert snapshot.startswith('- list "رمز الإيصال"')  # "Receipt code", in Arabic
    assert [line.strip() for line in snapshot.splitlines()[1:]] == [
        f"- listitem: \"{group}\"" for group in groups]
    # The groups run left to right, line by line, although the page runs right to left.
    places = [(round(box["y"]), box["x"]) for box in (item.bounding_box() for item in
                                                     receipt.get_by_role("listitem").all())]
    assert places == sorted(places)
    code = " ".join(groups)
    page.locator("[name=written_down]").check()
    page.locator("main form:has([name=written_down]) [type=submit]").click()

    public_id = db.scalar(select(Report.public_id))
    handler = signed_in(app, channel_with_handlers["hana"])
    sent = handler.post(f"/staff/cases/{public_id}/messages", data={
        "csrf_token": csrf_token(handler, f"/staff/cases/{public_id}"), "reply": REPLY})
    assert sent.status_code in {302, 303}

    page.goto(f"{live_server}/followup?lang=ar")
    page.locator("[name=code]").press_sequentially(in_arabic_indic(code))
    page.locator("main form [type=submit]").click()
    expect(page.get_by_text(REPLY)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")


def focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName.toLowerCase(), name: e.getAttribute('name') || '',
                type: e.getAttribute('type') || '', text: (e.innerText || '').trim()}; }""")


def tab_to(page, wanted, *, backwards: bool = False, limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the focused element is the one ``wanted`` picks."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if wanted(focused(page)):
            return
    raise AssertionError(f"Tab never reached the element; focus is on {focused(page)}")


def press_enter_and_follow(page) -> None:
    """Enter on a link or a form's button, and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def named(name: str, type_: str | None = None):
    return lambda element: element["name"] == name and type_ in {None, element["type"]}


def text_is(text: str):
    return lambda element: element["text"] == text


def test_a_reporter_sends_a_report_and_follows_up_with_the_keyboard_alone(
    page, live_server, channel_with_handlers
):
    page.goto(f"{live_server}/")
    tab_to(page, text_is("Make a report"))
    press_enter_and_follow(page)
    tab_to(page, text_is("Report corruption"))
    press_enter_and_follow(page)
    expect(page.locator("[name=q_what]")).to_be_visible()

    tab_to(page, named("q_what"))
    page.keyboard.type("KEYBOARD-ONLY: the tender was rigged.")
    tab_to(page, named("q_where"))
    page.keyboard.type("Ministry of Works")
    tab_to(page, named("q_kind", "checkbox"))
    page.keyboard.press("Space")
    # Back up and forward again: Shift+Tab returns to the field before.
    tab_to(page, named("q_where"), backwards=True)
    tab_to(page, named("q_how_known"))
    page.keyboard.press("Space")
    expect(page.locator("[name=q_kind]").first).to_be_checked()
    tab_to(page, text_is("Send report"))
    press_enter_and_follow(page)

    receipt = page.locator("#receipt-code")
    expect(receipt).to_be_visible()
    code = " ".join(receipt.get_by_role("listitem").all_inner_texts())
    tab_to(page, named("written_down"))
    page.keyboard.press("Space")
    tab_to(page, text_is("Continue"))
    press_enter_and_follow(page)
    tab_to(page, text_is("Follow up on a report"))
    press_enter_and_follow(page)

    tab_to(page, named("code"))
    page.keyboard.type(code)
    press_enter_and_follow(page)
    expect(page.get_by_role("heading", name="Your mailbox")).to_be_visible()
    tab_to(page, named("q_message"))
    page.keyboard.type("KEYBOARD-REPLY: the tender number is 44/2026.")
    tab_to(page, lambda element: element["tag"] == "button" and element["type"] == "submit"
           and element["text"] != "Sign out")
    press_enter_and_follow(page)
    expect(page.get_by_text("KEYBOARD-REPLY: the tender number is 44/2026.")).to_be_visible()
