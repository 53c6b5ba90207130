"""The whole path with the real default model: SmolLM2 in this process, the local moderator,
the default prices. Replies are kept short so the test stays quick."""

from decimal import Decimal

import pytest

from clonechats.billing import ledger
from clonechats.chat import metering
from clonechats.providers.llm.base import Usage
from clonechats.settings import ChatSettings, Settings
from tests.chat.conftest import member, parse_sse
from tests.conftest import FAST_HASHING, make_settings

MAX_TOKENS = 12


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         chat=ChatSettings(max_reply_tokens=MAX_TOKENS))


async def test_a_reply_streams_from_the_local_model_and_is_charged(client, ctx):
    assert ctx.llm.default_model().id == "local:smollm2-135m"
    ann = await member(client, ctx, "ann@example.com")
    await ann.grant(20)
    persona = await ann.persona(name="Ada", traits=["helpful"])
    conversation = await ann.conversation(persona["_id"])
    assert conversation["model"] == "local:smollm2-135m"

    response = await ann.say(conversation["id"], "What is the capital of France?")

    events = parse_sse(response.text)
    names = [name for name, _ in events]
    assert names[-1] == "done", events
    assert names.count("token") >= 1 and set(names[:-1]) == {"token"}
    done = events[-1][1]
    usage = Usage(**done["usage"])
    assert 1 <= usage.completion_tokens <= MAX_TOKENS
    assert usage.prompt_tokens > 300  # the platform rules and the persona went in
    price = metering.price_for(ctx.settings.chat, "local:smollm2-135m")
    assert price.completion_per_1k == Decimal("2")
    assert done["credits_charged"] == metering.cost_for(price, usage) >= 1
    assert done["balance"] == 20 - done["credits_charged"] == await ann.balance()
    assert await ledger.applied_sum(ctx.db, ann.id) == done["balance"]
    text = "".join(data["text"] for name, data in events if name == "token")
    reply = (await ann.client.get(
        f"/api/v1/conversations/{conversation['id']}/messages")).json()["items"][1]
    assert reply["text"] == text and reply["status"] == "complete"
    assert reply["model"] == "local:smollm2-135m"
