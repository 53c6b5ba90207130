"""A whole debate with the real default model: SmolLM2 in this process, the offline moderator
and the default prices. Turns are kept short so the test stays quick."""

import pytest

from clonechats.settings import ChatSettings, RoomSettings, Settings
from tests.chat.conftest import member
from tests.conftest import FAST_HASHING, make_settings
from tests.rooms.conftest import debate, room_of


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         chat=ChatSettings(), rooms=RoomSettings(max_turn_tokens=24,
                                                                 max_summary_tokens=48))


async def test_a_debate_runs_on_the_local_model(client, ctx, run_jobs):
    assert ctx.llm.default_model().id == "local:smollm2-135m"
    ann = await member(client, ctx, "ann@example.com")
    await ann.grant(500)
    ada = await ann.persona(name="Ada", traits=["calm"])
    bo = await ann.persona(name="Bo", traits=["bold"])
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=1, topic="Is tea better than "
                        "coffee?", max_turn_words=20)
    before = await ann.balance()
    assert (await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")).status_code == 202
    await run_jobs()
    room = await room_of(ann, room["id"])
    assert room["status"] == "finished", room
    arguments = [t for t in room["turns"] if t["kind"] == "argument"]
    assert [t["speaker"]["persona_id"] for t in arguments] == [ada["_id"], bo["_id"]]
    assert all(t["status"] in ("complete", "blocked") and t["text"].strip() for t in arguments)
    assert room["summary"] and room["summary"].strip()
    assert room["credits_charged"] > 0
    assert await ann.balance() == before - room["credits_charged"]
