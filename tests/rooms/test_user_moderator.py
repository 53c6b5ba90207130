"""A debate the user moderates: the user opens, passes the floor, mutes and warns."""

from tests.rooms.conftest import debate, room_of


async def test_the_user_opens_passes_the_floor_mutes_and_warns(ann, fake_llm, run_jobs):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    cy = await ann.persona(name="Cy")
    room = await debate(ann, [ada["_id"], bo["_id"], cy["_id"]], rounds=1, moderator="user")
    base = f"/api/v1/rooms/{room['id']}"
    await ann.send("POST", base + "/start")
    await run_jobs()
    assert (await room_of(ann, room["id"]))["turns"] == []  # nobody speaks unasked

    opened = await ann.send("POST", base + "/interject", json={"text": "Welcome, all."})
    assert opened.status_code == 202
    fake_llm.enqueue(["Bo first."])
    given = await ann.send("POST", base + "/floor", json={"persona_id": bo["_id"]})
    assert given.status_code == 202, given.text
    taken = await ann.send("POST", base + "/floor", json={"persona_id": ada["_id"]})
    assert taken.status_code == 409  # Bo has the floor until the turn ends
    await run_jobs()

    again = await ann.send("POST", base + "/floor", json={"persona_id": bo["_id"]})
    assert again.status_code == 409  # one round: Bo has used it
    warned = await ann.send("POST", base + "/warn", json={"persona_id": ada["_id"],
                                                           "text": "Stay on topic."})
    assert warned.status_code == 202
    muted = await ann.send("POST", base + "/mute", json={"persona_id": cy["_id"]})
    assert muted.status_code == 202
    assert (await ann.send("POST", base + "/floor", json={"persona_id": cy["_id"]})
            ).status_code == 409
    unknown = await ann.send("POST", base + "/floor", json={"persona_id": "nobody"})
    assert unknown.status_code == 404
    fake_llm.enqueue(["Ada, on topic."])
    fake_llm.enqueue(["Summary of Bo and Ada."])
    await ann.send("POST", base + "/floor", json={"persona_id": ada["_id"]})
    await run_jobs()

    room = await room_of(ann, room["id"])
    assert room["status"] == "finished"  # every speaker still in it has used their round
    said = [(t["speaker"]["type"], t["text"]) for t in room["turns"]]
    assert said[:2] == [("user", "Welcome, all."), ("persona", "Bo first.")]
    assert ("user", "Warning to Ada: Stay on topic.") in said
    assert ("moderator", "The moderator muted Cy.") in said
    assert said.index(("persona", "Ada, on topic.")) > said.index(
        ("user", "Warning to Ada: Stay on topic."))
    assert room["summary"] == "Summary of Bo and Ada."
    assert [p["muted"] for p in room["participants"]] == [False, False, True]
    # Ada heard the warning before she spoke
    assert any("Stay on topic." in m.content for m in fake_llm.history[1]["messages"])
