"""Every route of the scheduled-messages API: shapes, status codes, refusals, owner checks."""

from tests.chat.scheduled.conftest import AN_HOUR, schedule, scheduled_item, stored


async def chat_with(member):
    return await member.conversation((await member.persona())["_id"])


async def test_schedule_answers_201_with_the_item(ann, ctx):
    conversation = await chat_with(ann)
    response = await schedule(ann, conversation["id"], "See you tomorrow",
                              send_at="2026-03-01T14:00:00+01:00")
    assert response.status_code == 201, response.text
    item = response.json()["scheduled"]
    assert {k: item[k] for k in ("conversation_id", "kind", "text", "status")} == {
        "conversation_id": conversation["id"], "kind": "message", "text": "See you tomorrow",
        "status": "pending"}
    assert item["send_at"] == "2026-03-01T13:00:00Z"  # stored and shown in UTC
    assert item["message_ids"] == [] and item["error"] is None
    found = await stored(ctx, item["id"])
    assert found["send_at"].isoformat() == "2026-03-01T13:00:00+00:00"
    assert await ctx.db.jobs.count_documents({"kind": "chat.deliver_scheduled"}) == 1


async def test_times_in_the_past_or_over_a_year_ahead_are_422(ann, ctx):
    conversation = await chat_with(ann)
    for send_at in ("2026-03-01T11:59:00Z", "2026-03-01T12:00:00Z", "2027-03-02T12:00:00Z"):
        response = await schedule(ann, conversation["id"], send_at=send_at)
        assert response.status_code == 422, send_at
        assert response.json()["error"]["code"] == "invalid_send_at"
    assert (await schedule(ann, conversation["id"], send_at="2027-03-01T11:00:00Z")
            ).status_code == 201
    assert await ctx.db.scheduled_messages.count_documents({}) == 1


async def test_malformed_input_is_422_and_stores_nothing(ann, ctx):
    conversation = await chat_with(ann)
    cases = [
        ({"text": "hi", "send_at": "tomorrow at nine"}, "invalid_send_at"),
        ({"text": "hi", "send_at": AN_HOUR, "kind": "later"}, None),
        ({"text": "   ", "send_at": AN_HOUR}, "invalid_message"),
        ({"text": "x" * 4001, "send_at": AN_HOUR}, "invalid_message"),
        ({"text": "hi", "send_at": "2026-03-01T13:00", "time_zone": "Mars/Olympus"},
         "invalid_time_zone"),
        ({"text": "hi", "send_at": AN_HOUR, "surprise": 1}, None),
    ]
    for body, code in cases:
        response = await ann.send("POST", f"/api/v1/conversations/{conversation['id']}/scheduled",
                                  json=body)
        assert response.status_code == 422, (body, response.text)
        if code:
            assert response.json()["error"]["code"] == code
    assert await ctx.db.scheduled_messages.count_documents({}) == 0
    assert await ctx.db.jobs.count_documents({"kind": "chat.deliver_scheduled"}) == 0


async def test_a_flagged_text_is_refused_and_not_stored(ann, ctx):
    conversation = await chat_with(ann)
    response = await schedule(ann, conversation["id"], "You are FORBIDDEN")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "message_blocked"
    assert await ctx.db.scheduled_messages.count_documents({}) == 0


async def test_another_users_conversation_and_items_are_404(ann, bob, ctx):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    assert (await schedule(bob, conversation["id"])).status_code == 404
    for method, body in (("GET", None), ("PATCH", {"text": "mine now"}), ("DELETE", None)):
        response = await bob.send(method, f"/api/v1/scheduled/{item['id']}", json=body)
        assert response.status_code == 404, method
        assert response.json()["error"]["code"] == "scheduled_not_found"
    assert (await bob.send("POST", f"/api/v1/scheduled/{item['id']}/dismiss")).status_code == 404
    assert (await bob.send("GET", "/api/v1/scheduled")).json()["items"] == []
    response = await bob.send("GET", f"/api/v1/scheduled?conversation_id={conversation['id']}")
    assert response.status_code == 404
    assert (await stored(ctx, item["id"]))["text"] == "Good morning!"


async def test_signed_out_requests_are_401(app, ctx):
    from tests.chat.conftest import new_client

    async with new_client(app) as anonymous:
        assert (await anonymous.get("/api/v1/scheduled")).status_code == 401
        assert (await anonymous.get("/api/v1/account/scheduling")).status_code == 401


async def test_list_filters_by_status_and_pages(ann, ctx):
    conversation = await chat_with(ann)
    ids = [(await scheduled_item(ann, conversation["id"], f"note {n}",
                                 send_at=f"2026-03-0{n + 2}T09:00:00Z"))["id"] for n in range(5)]
    await ann.send("DELETE", f"/api/v1/scheduled/{ids[1]}")
    listed = (await ann.send("GET", "/api/v1/scheduled?status=pending")).json()
    assert [i["id"] for i in listed["items"]] == [ids[0], ids[2], ids[3], ids[4]]
    cancelled = (await ann.send("GET", "/api/v1/scheduled?status=cancelled")).json()["items"]
    assert [i["id"] for i in cancelled] == [ids[1]] and cancelled[0]["text"] == ""
    both = (await ann.send("GET", "/api/v1/scheduled?status=pending,cancelled")).json()
    assert len(both["items"]) == 5

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await ann.send("GET", "/api/v1/scheduled", params=params)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids
    bad = await ann.send("GET", "/api/v1/scheduled?status=sent")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_status"
    assert (await ann.send("GET", "/api/v1/scheduled?cursor=%%%")).status_code == 400
    assert (await ann.send("GET", "/api/v1/scheduled?limit=0")).status_code == 422


async def test_get_one(ann):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    response = await ann.send("GET", f"/api/v1/scheduled/{item['id']}")
    assert response.status_code == 200 and response.json()["scheduled"]["id"] == item["id"]
    assert (await ann.send("GET", "/api/v1/scheduled/nope")).status_code == 404


async def test_edit_text_and_time_while_pending(ann, ctx, clock, run_jobs, fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"], "First draft")
    response = await ann.send("PATCH", f"/api/v1/scheduled/{item['id']}",
                              json={"text": "Second draft", "send_at": "2026-03-01T15:00:00Z"})
    assert response.status_code == 200, response.text
    edited = response.json()["scheduled"]
    assert edited["text"] == "Second draft" and edited["send_at"] == "2026-03-01T15:00:00Z"

    clock.advance(hours=1, minutes=30)  # the old time has passed: nothing goes out
    await run_jobs()
    assert (await stored(ctx, item["id"]))["status"] == "pending"
    clock.advance(hours=1, minutes=30)
    await run_jobs()
    delivered = await stored(ctx, item["id"])
    assert delivered["status"] == "delivered"
    [user_message] = [m for m in await ctx.db.messages.find({"role": "user"}).to_list()]
    assert user_message["text"] == "Second draft"


async def test_edit_refusals(ann, ctx, clock, run_jobs, fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    path = f"/api/v1/scheduled/{item['id']}"
    nothing = await ann.send("PATCH", path, json={})
    assert nothing.status_code == 422
    past = await ann.send("PATCH", path, json={"send_at": "2026-02-28T09:00:00Z"})
    assert past.status_code == 422 and past.json()["error"]["code"] == "invalid_send_at"
    flagged = await ann.send("PATCH", path, json={"text": "FORBIDDEN words"})
    assert flagged.status_code == 422
    assert (await stored(ctx, item["id"]))["text"] == "Good morning!"
    clock.advance(hours=1)
    await run_jobs()
    late = await ann.send("PATCH", path, json={"text": "too late"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "scheduled_not_pending"


async def test_cancel_answers_the_cancelled_item_and_removes_its_text(ann, ctx, clock,
                                                                      run_jobs, fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"], "A private thought")
    response = await ann.send("DELETE", f"/api/v1/scheduled/{item['id']}")
    assert response.status_code == 200
    cancelled = response.json()["scheduled"]
    assert cancelled["status"] == "cancelled" and cancelled["text"] == ""
    assert (await stored(ctx, item["id"]))["text"] == ""
    again = await ann.send("DELETE", f"/api/v1/scheduled/{item['id']}")
    assert again.status_code == 200 and again.json()["scheduled"]["status"] == "cancelled"
    clock.advance(hours=2)
    await run_jobs()
    assert await ctx.db.messages.count_documents({}) == 0
    assert fake_llm.history == []


async def test_a_delivered_item_cannot_be_cancelled(ann, ctx, clock, run_jobs, fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    clock.advance(hours=1)
    await run_jobs()
    response = await ann.send("DELETE", f"/api/v1/scheduled/{item['id']}")
    assert response.status_code == 409
    shown = (await ann.send("GET", f"/api/v1/scheduled/{item['id']}")).json()["scheduled"]
    assert shown["status"] == "delivered" and shown["delivered_at"] == "2026-03-01T13:00:00Z"
    assert len(shown["message_ids"]) == 2


async def test_preferences_store_the_zone_and_the_email_notice(ann, ctx):
    response = await ann.send("GET", "/api/v1/account/scheduling")
    assert response.json() == {"preferences": {"time_zone": None, "email_notice": False}}
    response = await ann.send("PATCH", "/api/v1/account/scheduling",
                              json={"time_zone": "Asia/Kolkata", "email_notice": True})
    assert response.status_code == 200
    assert response.json() == {"preferences": {"time_zone": "Asia/Kolkata",
                                               "email_notice": True}}
    bad = await ann.send("PATCH", "/api/v1/account/scheduling", json={"time_zone": "Nowhere"})
    assert bad.status_code == 422
    user = await ctx.db.users.find_one({"_id": ann.id})
    assert user["time_zone"] == "Asia/Kolkata" and user["scheduled_email_notice"] is True


async def test_the_first_zone_given_becomes_the_profile_zone(ann, ctx):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"], send_at="2026-03-02T09:00",
                                time_zone="America/New_York")
    assert item["send_at"] == "2026-03-02T14:00:00Z" and item["time_zone"] == "America/New_York"
    assert (await ctx.db.users.find_one({"_id": ann.id}))["time_zone"] == "America/New_York"
    later = await scheduled_item(ann, conversation["id"], send_at="2026-03-03T09:00")
    assert later["send_at"] == "2026-03-03T14:00:00Z"  # read in the profile's zone


async def test_too_many_pending_items_are_refused(ann, ctx):
    ctx.settings.scheduled.max_pending_per_user = 2
    conversation = await chat_with(ann)
    await scheduled_item(ann, conversation["id"])
    await scheduled_item(ann, conversation["id"])
    response = await schedule(ann, conversation["id"])
    assert response.status_code == 422 and response.json()["error"]["code"] == "too_many_scheduled"
