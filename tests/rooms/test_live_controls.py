"""Interjecting between turns, stopping mid-turn, running out of credits, the verdict."""

import asyncio

from tests.chat.conftest import member
from tests.rooms.conftest import debate, room_of


async def start_paused(ann, fake_llm, run_jobs, texts, pause_index):
    """Start a 1-round debate whose `pause_index`th reply pauses after its first chunk."""
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=1)
    replies = [fake_llm.enqueue(chunks, pause_after=1 if i == pause_index else None)
               for i, chunks in enumerate(texts)]
    await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")
    running = asyncio.create_task(run_jobs())
    await replies[pause_index].paused.wait()
    return room, replies[pause_index], running, (ada, bo)


async def test_an_interjection_waits_for_the_turn_to_end(ann, fake_llm, run_jobs):
    room, paused, running, (ada, _) = await start_paused(
        ann, fake_llm, run_jobs, [["Ada ", "speaks."], ["Bo speaks."], ["Sum."]], 0)
    response = await ann.send("POST", f"/api/v1/rooms/{room['id']}/interject",
                              json={"text": "What about hamsters?"})
    assert response.status_code == 202, response.text
    assert response.json()["queued"]["kind"] == "interjection"
    paused.resume.set()
    await running
    turns = (await room_of(ann, room["id"]))["turns"]
    ada_turn = next(t for t in turns if t["speaker"].get("persona_id") == ada["_id"])
    after = turns[turns.index(ada_turn) + 1]
    assert ada_turn["text"] == "Ada speaks."
    assert after["speaker"] == {"type": "user"} and after["text"] == "What about hamsters?"
    assert after["kind"] == "interjection"
    # Bo, who speaks next, heard it
    assert any("What about hamsters?" in m.content for m in fake_llm.history[1]["messages"])


async def test_an_interjection_that_breaks_the_rules_is_refused(ann, fake_llm, run_jobs, ctx):
    room, paused, running, _ = await start_paused(
        ann, fake_llm, run_jobs, [["Ada ", "speaks."], ["Bo."], ["Sum."]], 0)
    response = await ann.send("POST", f"/api/v1/rooms/{room['id']}/interject",
                              json={"text": "FORBIDDEN words"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "message_blocked"
    empty = await ann.send("POST", f"/api/v1/rooms/{room['id']}/interject", json={"text": ""})
    assert empty.status_code == 422
    paused.resume.set()
    await running
    turns = (await room_of(ann, room["id"]))["turns"]
    assert not any(t["speaker"]["type"] == "user" for t in turns)


async def test_stop_mid_turn_keeps_what_was_said_and_writes_the_summary(ann, fake_llm,
                                                                        run_jobs):
    room, paused, running, _ = await start_paused(
        ann, fake_llm, run_jobs, [["Ada starts", " and goes on", " and on."], ["A summary."]],
        0)
    stopped = await ann.send("POST", f"/api/v1/rooms/{room['id']}/stop")
    assert stopped.status_code == 200 and stopped.json()["room"]["status"] == "stopped"
    paused.resume.set()
    await running
    room = await room_of(ann, room["id"])
    assert room["status"] == "stopped" and room["reason"] == "stopped_by_owner"
    cut = next(t for t in room["turns"] if t["kind"] == "argument")
    assert cut["status"] == "stopped" and cut["text"].startswith("Ada starts")
    assert not cut["text"].endswith("and on.")
    assert [t["kind"] for t in room["turns"]][-1] == "closing"
    assert room["summary"] == "A summary."
    assert sum(1 for t in room["turns"] if t["kind"] == "argument") == 1  # Bo never spoke
    again = await ann.send("POST", f"/api/v1/rooms/{room['id']}/stop")
    assert again.status_code == 200 and again.json()["room"]["status"] == "stopped"


async def test_out_of_credits_stops_the_room_with_a_clear_status(client, ctx, fake_llm,
                                                                 moderator, run_jobs):
    poor = await member(client, ctx, "poor@example.com")
    await poor.grant(16)  # one turn's reservation
    ada = await poor.persona(name="Ada")
    bo = await poor.persona(name="Bo")
    room = await debate(poor, [ada["_id"], bo["_id"]], rounds=2)
    fake_llm.enqueue(["Ada has her say."])
    await poor.send("POST", f"/api/v1/rooms/{room['id']}/start")
    await run_jobs()
    room = await room_of(poor, room["id"])
    assert room["status"] == "stopped" and room["reason"] == "insufficient_credits"
    assert [t["text"] for t in room["turns"] if t["kind"] == "argument"] == ["Ada has her say."]
    assert room["summary"] == "Ada argued: Ada has her say."  # written without the model
    assert room["credits_charged"] == 1 and await poor.balance() == 15
    assert await ctx.db.paywall_hits.count_documents({"user_id": poor.id,
                                                      "feature": "debate"}) == 1
    events = (await poor.send("GET", f"/api/v1/rooms/{room['id']}/events")).text
    assert '"reason": "insufficient_credits"' in events


async def test_a_verdict_on_request_with_reasons(ann, fake_llm, run_jobs):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=1)
    for text in ("Ada argues.", "Bo argues.", "Summary."):
        fake_llm.enqueue([text])
    await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")
    await run_jobs()
    fake_llm.enqueue(["Verdict: Ada. ", "Her points were clearer."])
    response = await ann.send("POST", f"/api/v1/rooms/{room['id']}/verdict")
    assert response.status_code == 202
    await run_jobs()
    room = await room_of(ann, room["id"])
    assert room["verdict"] == "Verdict: Ada. Her points were clearer."
    prompt = fake_llm.history[-1]["messages"][-1].content
    assert "Ada argues." in prompt and "Bo argues." in prompt and "Ada, Bo" in prompt
    events = (await ann.send("GET", f"/api/v1/rooms/{room['id']}/events")).text
    assert "event: verdict" in events


async def test_a_model_that_keeps_failing_ends_the_room_as_failed(ann, fake_llm, run_jobs):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=2)
    fake_llm.enqueue(["never"], fail_after=0)
    fake_llm.enqueue(["never"], fail_after=0)
    before = await ann.balance()
    await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")
    await run_jobs()
    room = await room_of(ann, room["id"])
    assert room["status"] == "failed" and room["reason"] == "provider_unavailable"
    failed = [t for t in room["turns"] if t["kind"] == "argument"]
    assert [t["status"] for t in failed] == ["failed", "failed"]
    notices = [t["text"] for t in room["turns"] if t["kind"] == "notice"]
    assert notices == ["Ada could not answer just now; we move on.",
                       "Bo could not answer just now; we move on."]
    assert room["summary"]  # the debate still closes with a summary
    assert await ann.balance() == before - room["credits_charged"]
