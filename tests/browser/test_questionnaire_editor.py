"""An administrator edits the questionnaire: a refused question keeps what was typed and
says why beside the field, a question is edited and moved down, another channel's
questions are copied, and the form is previewed in French as a reporter will see it
(issue 15, item 7)."""

import pytest
from playwright.sync_api import expect

from reporting_portal.storage.models import Role
from tests.helpers.browser import fill_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.database]


def test_admin_edits_moves_copies_and_previews_questions(
    live_server, page, make_staff, installed, screenshot
):
    admin = make_staff("ada", Role.ADMINISTRATOR)
    fill_sign_in(page, live_server, "ada", admin.password, admin.code())
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Channels").click()
    page.get_by_role("link", name="Report corruption").click()
    questions = page.get_by_role("table")
    expect(questions.get_by_role("cell", name="Long text", exact=True).first).to_be_visible()

    # A mistake is explained beside its field, and the label typed is still there.
    page.get_by_label("Field id").fill("Amount!")
    label = page.locator("#texts-label-en").get_by_label("Question", exact=True)
    label.fill("Roughly how much money was involved?")
    page.get_by_role("button", name="Add question").click()
    field_id = page.get_by_label("Field id")
    expect(field_id).to_have_accessible_description(
        "Lower-case letters, digits, '_'; unique in the form. Start with a lower-case "
        "letter; then use only lower-case letters, digits and '_', up to 32 in all.")
    expect(page.locator("#texts-label-en").get_by_label("Question", exact=True)).to_have_value(
        "Roughly how much money was involved?")
    screenshot("editor-refusal-beside-field")
    field_id.fill("amount")
    page.get_by_role("button", name="Add question").click()
    expect(page.get_by_text("Question added.")).to_be_visible()

    # Edit the first question: no longer required; then move it down.
    page.get_by_role("link", name="How do you know about it?").click()
    expect(page.get_by_text("Type: Single choice.")).to_be_visible()
    choices = page.locator("#texts-label-en").get_by_label("Choices", exact=False)
    choices.fill("I saw or heard it myself\nSomeone told me\nI found documents\nOther\n"
                 "I took part")
    page.get_by_role("button", name="Save question").click()
    expect(page.get_by_text("Not saved yet: a field below needs your attention.")).to_be_visible()
    expect(page.locator("#texts-label-ar").get_by_label("Choices", exact=False)
           ).to_have_accessible_description(
        "Each language needs the same choices, one per line, in the same order. "
        "Lines needed: 5; given here: 4.")
    screenshot("editor-question-edit-refused")
    page.get_by_role("link", name="Report corruption").click()

    page.get_by_role("link", name="What happened?").click()
    page.get_by_label("Required").uncheck()
    page.get_by_role("button", name="Save question").click()
    expect(page.get_by_text("Question saved.")).to_be_visible()
    first_row = questions.get_by_role("row").nth(1)
    first_row.get_by_role("button", name="Move down").click()
    expect(questions.get_by_role("row").nth(1)).to_contain_text("When did it happen (or start)?")
    expect(questions.get_by_role("row").nth(2)).to_contain_text("What happened?")
    expect(questions.get_by_role("row").nth(2).get_by_role("cell").nth(2)).to_have_text("no")

    # The preview, in French: the reporter's fields, inert.
    page.get_by_role("link", name="Preview the form as reporters will see it").click()
    page.get_by_role("navigation", name="Preview language").get_by_role(
        "link", name="Français").click()
    preview = page.locator("#question-preview")
    expect(preview.get_by_label("Que s\u2019est-il passé\u00a0?")).to_be_disabled()
    expect(preview.get_by_text("Mo au total")).to_be_visible()
    expect(preview.get_by_label("Pots-de-vin")).to_be_disabled()
    screenshot("editor-preview-fr")


def test_admin_copies_questions_and_a_clash_is_refused(
    live_server, page, make_staff, installed, screenshot
):
    admin = make_staff("ada", Role.ADMINISTRATOR)
    fill_sign_in(page, live_server, "ada", admin.password, admin.code())
    page.goto(f"{live_server}/staff/admin/channels/new")
    page.get_by_label("Address name").fill("tenders")
    page.locator("#texts-name-en").get_by_label("Name").fill("Public tenders")
    page.get_by_role("button", name="Save channel").click()
    expect(page.get_by_text("Channel created with the default questionnaire.")).to_be_visible()

    copy = page.get_by_role("form", name="Copy questions from another channel")
    copy.get_by_label("Copy the questions of").select_option(label="Report corruption")
    copy.get_by_role("button", name="Copy questions").click()
    refusal = page.get_by_role("group", name="This channel's own questions")
    expect(refusal).to_have_accessible_description(
        "Both channels have questions with these ids: evidence, how_known, kind, "
        "reported_elsewhere, what, when, where, who. Remove them from this channel first, "
        "or replace its questions instead.")
    screenshot("editor-copy-refused")
    copy = page.get_by_role("form", name="Copy questions from another channel")
    copy.get_by_label("Replace them with the copied questions").check()
    copy.get_by_role("button", name="Copy questions").click()
    expect(page.get_by_text("8 questions copied from Report corruption.")).to_be_visible()
