"""Drafting a story from a verbatim: through a (fake) OpenAI-compatible LLM, and the fallbacks.

Personal data must be redacted before anything reaches the LLM, and again from what the LLM answers.
"""

from __future__ import annotations

from storage.models import Role
from storage.repositories import Repos
from tests.fakes.llm_fixtures import fake_llm_server, fresh_llm, llm_settings  # noqa: F401
from tests.fakes.openai_api import FakeOpenAI
from tests.harness import Chat

VERBATIM = (
    "Mijn naam is Jan de Vries. Mijn pakket kwam drie keer niet aan op de Dorpsstraat 12, 1234 AB Utrecht. "
    "Bel me op 06-12345678 of mail jan.devries@example.nl, en stort het terug op NL91 ABNA 0417 1643 00. "
    "Pas toen mevrouw Bakker van jullie klantenservice zelf belde, werd het opgelost."
)
PERSONAL = (
    "Jan de Vries",
    "Dorpsstraat 12",
    "1234 AB",
    "06-12345678",
    "jan.devries@example.nl",
    "NL91",
    "Bakker",
)
ANSWER = {
    "title": "Drie keer geen pakket",
    "story": "Een klant wachtte drie keer tevergeefs op een pakket. Pas toen een collega zelf belde, "
    "voelde de klant zich gehoord. Schrijf naar info@example.com voor meer.",
    "quote": "Pas toen iemand zelf belde, werd het opgelost.",
    "quote_author": "Een klant",
    "meaning": "Eén mens die het oppakt, maakt het verschil tussen frustratie en vertrouwen.",
    "question": "Wie belt bij ons de klant zelf op?",
    "stage": "purchase",
    "department": "Logistiek",
    "theme": "empathy",
}


async def _drafts(chat: Chat) -> list[tuple[str, str, str]]:
    async with chat.services.database.transaction() as session:
        return [
            (story.title, story.story, story.quote)
            for story in await Repos(session).stories.listing(status="draft")
        ]


async def test_the_llm_drafts_from_the_redacted_verbatim(chat: Chat, llm: FakeOpenAI) -> None:
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    llm.answer(ANSWER)
    await chloe.says(f"verhalen opzet {VERBATIM}")

    sent = "\n".join(llm.prompts())
    assert "[e-mailadres]" in sent and "[telefoonnummer]" in sent and "[naam]" in sent and "[IBAN]" in sent
    assert not [item for item in PERSONAL if item in sent]
    review = await chloe.last_reply()
    assert review.key == "stories.review"
    assert "Drie keer geen pakket" in review.text
    assert chat.t("nl", "stories.draft.by_llm") in review.text
    assert "🔒" in review.text and "2 namen" in review.text
    [(title, story, _)] = await _drafts(chat)
    assert title == "Drie keer geen pakket"
    assert "info@example.com" not in story and "[e-mailadres]" in story


async def test_an_invalid_or_failing_llm_answer_falls_back_to_the_template(
    chat: Chat, llm: FakeOpenAI
) -> None:
    chloe = await chat.member("Chloé", roles=[Role.cx_manager], locale="en")
    llm.answer("Sure! Here is a lovely story about a parcel.")
    await chloe.says("stories draft My parcel never came. Call me on +31 6 12345678.")
    first = await chloe.last_reply()
    assert chat.t("en", "stories.draft.by_template") in first.text
    assert "+31 6 12345678" not in first.text and "[phone]" in first.text

    llm.fail(500)
    llm.fail(500)
    llm.answer({"title": "x"})  # only used if the client retried more than it should
    await chloe.says("stories draft The driver waited for me in the rain, so kind.")
    second = await chloe.last_reply()
    assert chat.t("en", "stories.draft.by_template") in second.text
    assert len(await _drafts(chat)) == 2
    retries = 0 if chat.services.database.is_sqlite else 1  # one retry, except inside SQLite's write lock
    assert len(llm.requests) == 1 + 1 + retries
