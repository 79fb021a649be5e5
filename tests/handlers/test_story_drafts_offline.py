"""Drafting without an LLM: the template draft, the verbatim form, and redaction all the same."""

from __future__ import annotations

from storage.models import Role
from tests.harness import Chat


async def test_without_an_llm_the_template_drafts_a_redacted_story(chat: Chat) -> None:
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    await chloe.says("verhalen opzet")
    form = await chloe.latest_form()
    await chloe.submits({"verbatim": "", "locale": "nl"}, form)
    assert chat.t("nl", "error.field_required") in (await chloe.latest_form()).text

    await chloe.submits(
        {"verbatim": "Meneer Pietersen (klantnummer 8812345) kreeg na één dag al antwoord!", "locale": "en"},
        await chloe.latest_form(),
    )
    review = await chloe.last_reply()
    assert review.key == "stories.review"
    assert chat.t("nl", "stories.draft.by_template") in review.text
    assert "Pietersen" not in review.text and "8812345" not in review.text
    assert "A customer wrote to us" in review.text
    await chloe.clicks(chat.t("nl", "stories.review.approve"), review)
    assert chat.t("nl", "stories.status.approved") in (await chloe.last_reply()).text


async def test_the_source_option_is_not_part_of_the_customers_words(chat: Chat) -> None:
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    await chloe.says('verhalen opzet Ik wacht al drie weken op mijn terugbetaling. --source "NPS maart"')
    review = await chloe.last_reply()
    assert review.key == "stories.review"
    assert "Ik wacht al drie weken op mijn terugbetaling." in review.text
    assert "--source" not in review.text and review.text.count("NPS maart") == 1, "only as the source"
    await chloe.says("verhalen opzet --source=Ticket Het pakket kwam beschadigd aan.")
    review = await chloe.last_reply()
    assert "Het pakket kwam beschadigd aan." in review.text and "--source" not in review.text
    assert "Ticket" in review.text
    await chloe.says("verhalen opzet --source Ticket")  # nothing but the option: the form asks for the words
    assert (await chloe.last_reply()).key == "stories.draft.form_title"
