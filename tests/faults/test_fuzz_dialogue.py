"""Fuzzing what people type and submit, through the web chat on both databases.

The command parser with the real command table (every command and alias, both languages) never crashes;
unknown input always gets help, never an error; random commands and arguments from members of every role
end in a reply or a polite error (`KlantpetError`), never an exception. Random values submitted to real forms
of seven features (empty, blank, huge, unicode, control characters, values no select offers, missing and
extra fields) are stored or refused, and a refusal — a polite error or the form again with its errors —
changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import Services
from bot.clock import ManualClock
from bot.errors import KlantpetError
from storage.models import Role
from tests.conftest import make_settings
from tests.faults.dialogue_forms import FORMS, FormUnderTest, changed_tables, form_fields, snapshot
from tests.faults.strategies import FRAGMENTS, FUZZ, form_values, markup_text, plain_words
from tests.harness import Chat, Person

INPUTS_PER_EXAMPLE = {"sqlite": 8, "postgresql": 3}
"""Inputs in one example: PostgreSQL round trips cost more, so it gets fewer."""
SUBMISSIONS_PER_EXAMPLE = {"sqlite": 4, "postgresql": 2}


@pytest.fixture(scope="module")
def unstarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """The real services (never started): their router holds every command and alias of both languages."""
    folder = tmp_path_factory.mktemp("parser")
    yield Services(make_settings(folder, f"sqlite+aiosqlite:///{folder}/unused.db"))


@dataclass(frozen=True)
class Vocabulary:
    paths: list[tuple[str, ...]]
    words: list[str]
    """Every command word and alias."""
    spellings: dict[str, list[str]]
    """Each command word and the aliases that may stand for it."""


def vocabulary(services: Services) -> Vocabulary:
    aliases = services.router.aliases
    paths = sorted(services.router.router.commands)
    words = sorted({word for path in paths for word in path} | set(aliases))
    spellings = {
        word: [word, *sorted(alias for alias, meanings in aliases.items() if word in meanings)]
        for path in paths
        for word in path
    }
    return Vocabulary(paths, words, spellings)


def _cased(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word, word.upper(), word.title()])


def command_texts(known: Vocabulary) -> st.SearchStrategy[str]:
    """A real command (any spelling, any case) or a jumble of command words, with any prefix, arguments,
    quotes and options."""
    command = st.sampled_from(known.paths).flatmap(
        lambda path: st.tuples(*(st.sampled_from(known.spellings[word]).flatmap(_cased) for word in path))
    )
    jumble = st.lists(st.sampled_from(known.words).flatmap(_cased), min_size=1, max_size=4).map(tuple)
    argument = st.one_of(
        plain_words,
        markup_text,
        st.sampled_from(
            ['"', "'", '"twee woorden"', "--", "--locale", "--x=y", "-", "#algemeen", "<@U1>", "9" * 30, "1"]
        ),
        st.sampled_from(FRAGMENTS),
    )
    prefix = st.sampled_from(["", "", "/", "/klantpet ", "<@U0KLANT> ", "<at>Klantpet</at> ", "  "])
    return st.builds(
        lambda head, words, rest: head + " ".join((*words, *rest)),
        prefix,
        command | command | jumble,
        st.lists(argument, max_size=5),
    )


def test_every_command_and_alias_parses_to_its_command(unstarted: Services) -> None:
    router = unstarted.router
    for path in vocabulary(unstarted).paths:
        for prefix in ("", "/", "/klantpet ", "<@U0KLANT> "):
            parsed = router.parse(prefix + " ".join(path) + " en meer")
            assert parsed is not None and parsed.path == path, (prefix, path)
        for position, command_word in enumerate(path):
            for alias, meanings in router.aliases.items():
                if command_word in meanings:
                    typed = " ".join((*path[:position], alias, *path[position + 1 :]))
                    parsed = router.parse(typed)
                    assert parsed is not None and parsed.path == path, (typed, path)


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_the_parser_never_crashes_on_the_real_command_table(unstarted: Services, data: st.DataObject) -> None:
    router = unstarted.router
    known = vocabulary(unstarted)
    text = data.draw(command_texts(known) | st.text(max_size=300) | markup_text)
    parsed = router.parse(text)
    if parsed is not None:
        assert parsed.path in known.paths
        assert all(isinstance(value, str) for value in (*parsed.args, *parsed.options.values(), parsed.rest))
    router.is_bare(text)


def unknown_words(words: list[str]) -> st.SearchStrategy[str]:
    known = {word.lower() for word in words}
    return st.from_regex(r"[a-zA-Zëé]{2,12}", fullmatch=True).filter(lambda word: word.lower() not in known)


@pytest.fixture
async def people(chat: Chat) -> list[Person]:
    """Someone of every role, in both languages, and a channel they share."""
    people = [
        await chat.member("Anna de Vries", department="Klantenservice"),
        await chat.member("Emma Smith", department="Sales", locale="en"),
        await chat.member("Chloé Bakker", department="Klantenservice", roles=[Role.cx_manager, Role.admin]),
        await chat.member("Lars Hendriks", department="Directie", roles=[Role.leader], locale="en"),
    ]
    await chat.channel("algemeen", people)
    return people


@settings(FUZZ, max_examples=4)
@given(data=st.data())
async def test_unknown_input_gets_help_in_the_members_language(
    chat: Chat, people: list[Person], database_url: str, data: st.DataObject
) -> None:
    known = vocabulary(chat.services)
    for _ in range(INPUTS_PER_EXAMPLE[database_url.split("+")[0]]):
        person = data.draw(st.sampled_from(people))
        unknown = data.draw(unknown_words(known.words)) + data.draw(st.sampled_from(["", " ", " --x "]))
        unknown += data.draw(markup_text)
        where = data.draw(st.sampled_from([None, "channel:algemeen"]))
        outcome = await person.says("/" + unknown, where)
        assert outcome.error is None
        reply = await person.last_reply(where)
        assert reply.key == "help.unknown"
        assert chat.t(person.member.locale or "nl", "help.unknown", text="")[:12] in reply.text
        # Typed in a direct message without a slash: help, or the question whether it is feedback.
        plain = await person.says(unknown)
        assert plain.error is None
        assert (await person.last_reply()).key in ("help.unknown", "feedback.ask_if_feedback")


@settings(FUZZ, max_examples=4)
@given(data=st.data())
async def test_random_commands_end_in_a_reply_or_a_polite_error(
    chat: Chat, people: list[Person], database_url: str, data: st.DataObject
) -> None:
    known = vocabulary(chat.services)
    for _ in range(INPUTS_PER_EXAMPLE[database_url.split("+")[0]]):
        person = data.draw(st.sampled_from(people))
        where = data.draw(st.sampled_from([None, "channel:algemeen"]))
        text = data.draw(command_texts(known))
        outcome = await person.says(text, where)  # an unexpected exception fails the test right here
        if outcome.error is not None:
            assert isinstance(outcome.error, KlantpetError)
            politely = [seen for seen in await person.sees() if outcome.error.key in seen.keys]
            assert politely, f"{text!r}: no polite reply for {outcome.error.key}"


def submitted_values(
    fields: dict[str, list[str]], valid: dict[str, str]
) -> st.SearchStrategy[dict[str, str]]:
    """Values the feature accepts, some changed: left out, another option the form offers, or anything at
    all (also for a select); plus fields the form never had."""
    choices: dict[str, st.SearchStrategy[str | None]] = {}
    for name, options in fields.items():
        kept = st.just(valid[name]) if name in valid else st.nothing()
        offered = st.sampled_from(options) if options else st.nothing()
        choices[name] = st.one_of(kept, kept, kept, st.none(), offered, form_values)
    extra = st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), form_values, max_size=2)
    return st.builds(
        lambda chosen, more: {**more, **{name: value for name, value in chosen.items() if value is not None}},
        st.fixed_dictionaries(choices),
        extra,
    )


@pytest.fixture
async def under_test(chat: Chat, clock: ManualClock, feature: str) -> FormUnderTest:
    return await FORMS[feature](chat, clock)


async def stored_or_refused(chat: Chat, under_test: FormUnderTest, values: dict[str, str]) -> bool:
    """Submit ``values`` to a fresh form; True when refused, which must have changed nothing. An unexpected
    exception from the router fails the test right here."""
    form = await under_test.open()
    shown = {(seen.id, seen.html) for seen in await under_test.person.sees(under_test.conversation)}
    before = await snapshot(chat)
    outcome = await under_test.person.submits(values, form)
    after = await snapshot(chat)
    answers = [
        seen
        for seen in await under_test.person.sees(under_test.conversation)
        if seen.author == "Klantpet" and (seen.id, seen.html) not in shown
    ]
    if outcome.error is not None:
        assert any(outcome.error.key in seen.keys for seen in answers), "a polite reply"
    refused = outcome.error is not None or any("kp-field-error" in seen.html for seen in answers)
    if refused:
        assert changed_tables(before, after) == [], f"refused, yet stored: {values!r}"
    return refused


@pytest.mark.parametrize("feature", sorted(FORMS))
@settings(FUZZ, max_examples=3)
@given(data=st.data())
async def test_random_form_values_are_stored_or_refused_without_a_trace(
    chat: Chat, under_test: FormUnderTest, database_url: str, data: st.DataObject
) -> None:
    for _ in range(SUBMISSIONS_PER_EXAMPLE[database_url.split("+")[0]]):
        fields = form_fields(await under_test.open())
        await stored_or_refused(chat, under_test, data.draw(submitted_values(fields, under_test.valid)))


@pytest.mark.parametrize("feature", ["campaign", "meeting"])
async def test_a_time_zone_a_thousand_levels_deep_is_refused_politely(
    chat: Chat, under_test: FormUnderTest
) -> None:
    # Found by the fuzzer: zoneinfo recursed once per "/" and the RecursionError escaped the router.
    assert await stored_or_refused(chat, under_test, {**under_test.valid, "timezone": "</i>" * 2000})


async def test_a_nul_character_is_dropped_rather_than_refused_by_the_database(
    chat: Chat, people: list[Person]
) -> None:
    # Found by the fuzzer: PostgreSQL stores no NUL in text or JSON, and the insert failed past the router.
    anna, _, chloe, _ = people
    outcome = await anna.says("<at>Klantpet</at> Story insturen 9\x00", "channel:algemeen")
    assert outcome.error is None
    await anna.says("/onbekend\x00")
    assert (await anna.last_reply()).key == "help.unknown"
    await anna.says("feedback")
    fields = {"text": "De wachtmuziek\x00 is te hard", "mode": "named", "category": "customer", "x": "\x00"}
    assert (await anna.submits(fields)).error is None
    assert (await anna.last_reply()).key == "feedback.thanks.named"
    assert "De wachtmuziek is te hard" in (await chloe.replies_with("feedback.notice.new"))[0].text
