"""Translation chats: a Spanish-speaking user and an English persona, each in their language.

Apertium runs for real (the default offline translator); DeepL runs against its fake; failing
translators show what the user sees when translation is down.
"""

import shutil

import pytest

from clonechats.privacy.registry import holders
from clonechats.providers.errors import ProviderUnavailable
from clonechats.providers.translation.base import LanguagePair, TranslationResult
from clonechats.providers.translation.deepl import DeepLTranslator
from clonechats.providers.translation.registry import TranslationRegistry
from tests.chat.conftest import parse_sse
from tests.contracts.test_translation_providers import APERTIUM
from tests.fakes.deepl import API_KEY, BASE_URL, FakeDeepL

SPANISH = "Quiero planear un viaje a Madrid el próximo verano."
ENGLISH_REPLY = "I would love to help you plan a trip to Madrid."
needs_apertium = pytest.mark.skipif(not APERTIUM, reason="Apertium is not installed")


async def translation_chat(member, persona_id: str, user: str = "es",
                           persona: str = "en") -> dict:
    response = await member.send("POST", "/api/v1/conversations", json={
        "persona_id": persona_id,
        "translation": {"user_language": user, "persona_language": persona}})
    assert response.status_code == 201, response.text
    return response.json()["conversation"]


async def messages_of(member, conversation_id: str) -> list[dict]:
    response = await member.client.get(f"/api/v1/conversations/{conversation_id}/messages")
    assert response.status_code == 200, response.text
    return response.json()["items"]


class Switchable:
    """A translator for es↔en (and fr→en) that answers, or fails while `down` is set."""

    name, label = "switchable", "Switchable"

    def __init__(self) -> None:
        self.down = False
        self.calls: list[tuple[str, str, str]] = []

    def pairs(self) -> list[LanguagePair]:
        return [LanguagePair("es", "en"), LanguagePair("en", "es"), LanguagePair("fr", "en")]

    async def translate(self, text: str, *, source: str, target: str) -> TranslationResult:
        self.calls.append((text, source, target))
        if self.down:
            raise ProviderUnavailable("down for the test", provider=self.name)
        return TranslationResult(text=f"<{target}> {text}", source=source, target=target,
                                 provider=self.name)


@pytest.fixture
def switchable(ctx) -> Switchable:
    translator = Switchable()
    ctx.translation = TranslationRegistry([translator])
    return translator


@needs_apertium
async def test_a_spanish_user_and_an_english_persona_keep_both_originals(ann, fake_llm):
    persona = await ann.persona(name="Ada")
    conversation = await translation_chat(ann, persona["_id"])
    assert conversation["translation"] == {"user_language": "es", "persona_language": "en"}
    fake_llm.enqueue(["I would love to help", " you plan a trip to Madrid."])

    events = parse_sse((await ann.say(conversation["id"], SPANISH)).text)

    names = [name for name, _ in events]
    assert names == ["token", "token", "translation", "done"]
    translated = events[2][1]
    assert translated["language"] == "es" and translated["provider"] == "local"
    assert "viaje" in translated["text"] and "Madrid" in translated["text"]
    assert translated["message_id"] == events[3][1]["message_id"]
    # The model read English only, and was asked to write English.
    sent = fake_llm.history[0]["messages"]
    assert sent[-1].role == "user"
    assert sent[-1].content == "I want to plan a trip to Madrid next summer."
    assert any(m.role == "system" and "Write every reply in English" in m.content for m in sent)
    assert not any(SPANISH in m.content for m in sent)

    user, reply = await messages_of(ann, conversation["id"])
    assert (user["text"], user["language"]) == (SPANISH, "es")
    assert user["translation"] == {"language": "en", "provider": "local",
                                   "text": "I want to plan a trip to Madrid next summer."}
    assert (reply["text"], reply["language"]) == (ENGLISH_REPLY, "en")
    assert reply["translation"] == {k: translated[k] for k in ("language", "text", "provider")}
    assert reply["translation_error"] is None and user["language_flag"] is None


@needs_apertium
async def test_the_next_turn_sends_the_model_the_english_side_of_the_history(ann, fake_llm):
    conversation = await translation_chat(ann, (await ann.persona())["_id"])
    fake_llm.enqueue([ENGLISH_REPLY])
    await ann.say(conversation["id"], SPANISH, stream="false")
    fake_llm.enqueue(["Sure."])
    await ann.say(conversation["id"], "Me gusta mucho la playa.", stream="false")

    turns = [m for m in fake_llm.history[1]["messages"] if m.role != "system"]
    assert [(m.role, m.content) for m in turns[:2]] == [
        ("user", "I want to plan a trip to Madrid next summer."), ("assistant", ENGLISH_REPLY)]
    assert "beach" in turns[2].content.lower()


async def test_with_deepl_both_directions_go_through_the_vendor(ann, fake_llm, ctx):
    fake = FakeDeepL()
    async with fake.client() as http:
        ctx.translation = TranslationRegistry([DeepLTranslator(api_key=API_KEY, http=http,
                                                               base_url=BASE_URL)])
        conversation = await translation_chat(ann, (await ann.persona())["_id"])
        fake_llm.enqueue([ENGLISH_REPLY])
        response = await ann.say(conversation["id"], SPANISH, stream="false")

    assert response.status_code == 201, response.text
    reply = response.json()["message"]
    assert reply["translation"] == {"language": "es", "provider": "deepl",
                                    "text": "Me encantaría ayudarte a planear un viaje a Madrid."}
    assert [(b["source_lang"], b["target_lang"]) for b in fake.translated] == [
        ("ES", "EN-US"), ("EN", "ES")]
    user = (await messages_of(ann, conversation["id"]))[0]
    assert user["text"] == SPANISH and user["translation"]["provider"] == "deepl"
    assert fake_llm.history[0]["messages"][-1].content == (
        "I want to plan a trip to Madrid next summer.")


async def test_a_pair_no_translator_serves_is_refused_with_a_clear_message(ann, ctx,
                                                                         switchable):
    persona = await ann.persona()
    response = await ann.send("POST", "/api/v1/conversations", json={
        "persona_id": persona["_id"],
        "translation": {"user_language": "es", "persona_language": "hi"}})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "translation_unavailable"
    assert "Spanish to Hindi" in error["message"] and "English" in error["message"]
    assert await ctx.db.conversations.count_documents({}) == 0


@pytest.mark.parametrize(("translation", "code"), [
    ({"user_language": "español", "persona_language": "en"}, "invalid_language"),
    ({"user_language": "es-MX", "persona_language": "es"}, "same_language"),
    ({"user_language": "es", "persona_language": "en", "extra": 1}, "validation_failed"),
    ({"user_language": "es"}, "validation_failed"),
])
async def test_malformed_translation_modes_are_refused(ann, ctx, switchable, translation, code):
    persona = await ann.persona()
    response = await ann.send("POST", "/api/v1/conversations",
                              json={"persona_id": persona["_id"], "translation": translation})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    assert await ctx.db.conversations.count_documents({}) == 0


async def test_language_tags_are_stored_in_canonical_case(ann, switchable):
    conversation = await translation_chat(ann, (await ann.persona())["_id"], user="ES-mx",
                                          persona="EN-us")
    assert conversation["translation"] == {"user_language": "es-MX", "persona_language": "en-US"}


async def test_ordinary_conversations_are_unchanged(ann, fake_llm, switchable):
    conversation = await ann.conversation((await ann.persona())["_id"])
    assert conversation["translation"] is None
    events = parse_sse((await ann.say(conversation["id"], "Hola")).text)
    assert [name for name, _ in events] == ["token", "token", "done"]
    assert switchable.calls == []
    user, reply = await messages_of(ann, conversation["id"])
    assert user["language"] is None and user["translation"] is None
    assert reply["language"] is None and reply["translation"] is None


async def test_another_users_translation_chat_is_not_found(ann, bob, fake_llm, switchable):
    conversation = await translation_chat(ann, (await ann.persona())["_id"])
    await ann.say(conversation["id"], SPANISH, stream="false")
    reply = (await messages_of(ann, conversation["id"]))[1]
    base = f"/api/v1/conversations/{conversation['id']}"

    assert (await bob.client.get(base + "/messages")).status_code == 404
    again = await bob.send("POST", f"{base}/messages/{reply['id']}/translate")
    assert again.status_code == 404
    assert (await bob.say(conversation["id"], "Hola")).status_code == 404
    assert len(switchable.calls) == 2  # ann's message and ann's reply only


async def test_when_the_users_message_cannot_be_translated_nothing_is_sent(ann, fake_llm,
                                                                          switchable, ctx):
    conversation = await translation_chat(ann, (await ann.persona())["_id"])
    switchable.down = True

    response = await ann.say(conversation["id"], SPANISH)

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "translation_unavailable" and "not sent" in error["message"]
    assert await messages_of(ann, conversation["id"]) == []
    assert fake_llm.history == [] and await ann.balance() == 100
    switchable.down = False  # the conversation was freed: the same message goes through
    assert (await ann.say(conversation["id"], SPANISH, stream="false")).status_code == 201


async def test_when_the_reply_cannot_be_translated_it_shows_as_written(ann, fake_llm,
                                                                      switchable, ctx):
    conversation = await translation_chat(ann, (await ann.persona())["_id"])
    fake_llm.enqueue([ENGLISH_REPLY])
    original = switchable.translate

    async def reply_fails(text, *, source, target):
        if target == "es":
            raise ProviderUnavailable("down", provider="switchable")
        return await original(text, source=source, target=target)

    switchable.translate = reply_fails
    events = parse_sse((await ann.say(conversation["id"], SPANISH)).text)

    name, event = events[-2]
    assert name == "translation" and event["text"] is None
    assert event["error"]["code"] == "translation_unavailable"
    assert events[-1][0] == "done"
    reply = (await messages_of(ann, conversation["id"]))[1]
    assert reply["status"] == "complete" and reply["text"] == ENGLISH_REPLY
    assert reply["translation"] is None and reply["translation_error"] == "translation_unavailable"
    page = (await ann.client.get(f"/chat/{conversation['id']}")).text
    assert "Translation unavailable" in page

    path = f"/api/v1/conversations/{conversation['id']}/messages/{reply['id']}/translate"
    still_down = await ann.send("POST", path)
    assert still_down.status_code == 503
    assert (await messages_of(ann, conversation["id"]))[1]["translation"] is None
    switchable.translate = original
    fixed = await ann.send("POST", path)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["message"]["translation"] == {
        "language": "es", "text": f"<es> {ENGLISH_REPLY}", "provider": "switchable"}
    assert fixed.json()["message"]["translation_error"] is None


async def test_only_finished_replies_of_translation_chats_are_translated_again(ann, fake_llm,
                                                                              switchable):
    plain = await ann.conversation((await ann.persona())["_id"])
    await ann.say(plain["id"], "Hello", stream="false")
    user, reply = await messages_of(ann, plain["id"])
    base = f"/api/v1/conversations/{plain['id']}/messages"
    assert (await ann.send("POST", f"{base}/{reply['id']}/translate")).status_code == 409
    chat = await translation_chat(ann, (await ann.persona())["_id"])
    await ann.say(chat["id"], SPANISH, stream="false")
    user = (await messages_of(ann, chat["id"]))[0]
    response = await ann.send("POST", f"/api/v1/conversations/{chat['id']}/messages/"
                                      f"{user['id']}/translate")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_translatable"


async def test_a_message_in_another_language_is_flagged_and_translated_from_it(
        ann, fake_llm, switchable):
    conversation = await translation_chat(ann, (await ann.persona())["_id"])
    french = "Bonjour, je voudrais réserver une table pour ce soir avec mes amis."

    await ann.say(conversation["id"], french, stream="false")

    user = (await messages_of(ann, conversation["id"]))[0]
    assert user["language_flag"]["detected"] == "fr"
    assert user["language_flag"]["expected"] == "es"
    assert user["language"] == "fr"
    assert switchable.calls[0] == (french, "fr", "en")
    page = (await ann.client.get(f"/chat/{conversation['id']}")).text
    assert "looks like French" in page


async def test_short_or_expected_language_messages_are_not_flagged(ann, fake_llm, switchable):
    conversation = await translation_chat(ann, (await ann.persona())["_id"])
    await ann.say(conversation["id"], "Hola", stream="false")
    await ann.say(conversation["id"], SPANISH, stream="false")
    flags = [m["language_flag"] for m in await messages_of(ann, conversation["id"])]
    assert flags == [None, None, None, None]


async def test_export_shows_the_translations_and_deletion_removes_them(ann, fake_llm,
                                                                      switchable, ctx):
    conversation = await translation_chat(ann, (await ann.persona())["_id"])
    fake_llm.enqueue([ENGLISH_REPLY])
    await ann.say(conversation["id"], SPANISH, stream="false")
    holder = next(h for h in holders() if h.name == "conversations")

    [item] = (await holder.export(ctx, ann.id))["conversations"]

    assert item["translation"] == {"user_language": "es", "persona_language": "en"}
    user, reply = item["messages"]
    assert user["text"] == SPANISH and user["translation"]["text"] == f"<en> {SPANISH}"
    assert reply["text"] == ENGLISH_REPLY and reply["translation"]["provider"] == "switchable"
    assert reply["language"] == "en"
    await holder.delete(ctx, ann.id)
    assert await ctx.db.messages.count_documents({"owner_id": ann.id}) == 0
    assert await ctx.db.messages.count_documents({"translation.text": {"$exists": True}}) == 0


def test_apertium_is_installed_where_the_makefile_runs() -> None:
    if shutil.which("apertium") is None:
        pytest.skip("Apertium is not installed here")
    assert APERTIUM
