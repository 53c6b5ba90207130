"""The rooms routes as API.md writes them: shapes, owner checks and every refusal."""

import pytest

from tests.chat.conftest import member, new_client
from tests.rooms.conftest import BLOCK_WORD, debate


def body(persona_ids, **fields):
    return {"kind": "debate", "topic": "Is tea better than coffee?", "persona_ids": persona_ids,
            "rounds": 3, "moderator": "auto", **fields}


async def test_create_answers_as_written(ann):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    response = await ann.send("POST", "/api/v1/rooms", json=body([ada["_id"], bo["_id"]],
                                                                  max_turn_words=80))
    assert response.status_code == 201
    room = response.json()["room"]
    assert room["kind"] == "debate" and room["status"] == "ready" and room["rounds"] == 3
    assert room["topic"] == "Is tea better than coffee?" and room["max_turn_words"] == 80
    assert [p["persona_id"] for p in room["participants"]] == [ada["_id"], bo["_id"]]
    listed = (await ann.send("GET", "/api/v1/rooms")).json()
    assert [r["id"] for r in listed["items"]] == [room["id"]] and listed["next_cursor"] is None


async def test_a_public_persona_of_someone_else_may_take_part(ann, bob):
    mine = await ann.persona(name="Ada")
    theirs = await bob.persona(name="Public Bo", visibility="public", share_id="s-bo")
    response = await ann.send("POST", "/api/v1/rooms", json=body([mine["_id"], theirs["_id"]]))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("change, code", [
    ({"rounds": 0}, "validation_failed"),
    ({"rounds": 11}, "validation_failed"),
    ({"moderator": "robot"}, "validation_failed"),
    ({"kind": "party"}, "validation_failed"),
    ({"topic": "   "}, "validation_failed"),
    ({"topic": "x" * 301}, "validation_failed"),
    ({"max_turn_words": 5}, "validation_failed"),
    ({"surprise": True}, "validation_failed"),
])
async def test_bad_setups_are_refused(ann, ctx, change, code):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    response = await ann.send("POST", "/api/v1/rooms", json={**body([ada["_id"], bo["_id"]]),
                                                             **change})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert await ctx.db.rooms.count_documents({}) == 0


@pytest.mark.parametrize("count", [1, 5])
async def test_one_or_five_personas_are_refused(ann, ctx, count):
    people = [await ann.persona(name=f"P{i}") for i in range(count)]
    response = await ann.send("POST", "/api/v1/rooms", json=body([p["_id"] for p in people]))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"
    assert await ctx.db.rooms.count_documents({}) == 0


async def test_the_same_persona_twice_is_refused(ann):
    ada = await ann.persona(name="Ada")
    response = await ann.send("POST", "/api/v1/rooms", json=body([ada["_id"], ada["_id"]]))
    assert response.status_code == 422


async def test_another_users_private_persona_is_not_found(ann, bob, ctx):
    mine = await ann.persona(name="Ada")
    private = await bob.persona(name="Secret")
    response = await ann.send("POST", "/api/v1/rooms", json=body([mine["_id"], private["_id"]]))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "persona_not_found"
    assert await ctx.db.rooms.count_documents({}) == 0


async def test_a_topic_that_breaks_the_rules_is_refused(ann, ctx):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    response = await ann.send("POST", "/api/v1/rooms", json=body(
        [ada["_id"], bo["_id"]], topic=f"Why {BLOCK_WORD} people"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "message_blocked"
    assert await ctx.db.rooms.count_documents({}) == 0


async def test_another_users_room_is_not_found_everywhere(ann, bob, ctx):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]])
    base = f"/api/v1/rooms/{room['id']}"
    for method, path, payload in [
            ("GET", base, None), ("POST", base + "/start", None),
            ("POST", base + "/interject", {"text": "hi"}), ("POST", base + "/stop", None),
            ("GET", base + "/events", None), ("POST", base + "/share", None),
            ("POST", base + "/verdict", None), ("DELETE", base, None),
            ("POST", base + "/floor", {"persona_id": ada["_id"]})]:
        response = await bob.send(method, path, json=payload)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "room_not_found"
    assert (await bob.send("GET", "/api/v1/rooms")).json()["items"] == []
    stored = await ctx.db.rooms.find_one({"_id": room["id"]})
    assert stored["status"] == "ready" and "share_id" not in stored


async def test_signed_out_callers_get_401(app, ann):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]])
    async with new_client(app) as anonymous:
        assert (await anonymous.get("/api/v1/rooms")).status_code == 401
        assert (await anonymous.get(f"/api/v1/rooms/{room['id']}/events")).status_code == 401


async def test_start_twice_and_controls_out_of_state_are_conflicts(ann, run_jobs):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]])
    base = f"/api/v1/rooms/{room['id']}"
    early = await ann.send("POST", base + "/interject", json={"text": "Hello"})
    assert early.status_code == 409
    assert (await ann.send("POST", base + "/verdict")).status_code == 409
    floor = await ann.send("POST", base + "/floor", json={"persona_id": ada["_id"]})
    assert floor.status_code == 409  # the platform moderates this one
    assert (await ann.send("POST", base + "/start")).status_code == 202
    again = await ann.send("POST", base + "/start")
    assert again.status_code == 409 and again.json()["error"]["code"] == "room_state"


async def test_no_credits_no_start_and_the_paywall_hit_is_recorded(client, ctx, fake_llm,
                                                                   moderator):
    broke = await member(client, ctx, "broke@example.com")
    ada = await broke.persona(name="Ada")
    bo = await broke.persona(name="Bo")
    room = await debate(broke, [ada["_id"], bo["_id"]])
    response = await broke.send("POST", f"/api/v1/rooms/{room['id']}/start")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_credits"
    assert await ctx.db.paywall_hits.count_documents({"user_id": broke.id,
                                                      "feature": "debate"}) == 1
    assert (await ctx.db.rooms.find_one({"_id": room["id"]}))["status"] == "ready"


async def test_a_bad_cursor_and_limit_are_refused(ann):
    assert (await ann.send("GET", "/api/v1/rooms", params={"cursor": "!!"})).status_code == 400
    assert (await ann.send("GET", "/api/v1/rooms", params={"limit": 0})).status_code == 422
