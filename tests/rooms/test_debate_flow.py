"""A debate runs in order to its summary, every turn moderated, metered on the owner."""

from clonechats.rooms.turns import WITHHELD_TEXT
from tests.rooms.conftest import BLOCK_WORD, debate, parse_sse, room_of


async def test_auto_debate_runs_in_order_to_a_summary(ann, fake_llm, moderator, run_jobs):
    ada = await ann.persona(name="Ada", tagline="A logician")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=2)
    assert room["status"] == "ready"
    assert [p["name"] for p in room["participants"]] == ["Ada", "Bo"]
    for text in ("Ada one.", "Bo one.", "Ada two.", "Bo two.", "A fair summary."):
        fake_llm.enqueue([text])
    before = await ann.balance()

    started = await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")
    assert started.status_code == 202, started.text
    await run_jobs()

    room = await room_of(ann, room["id"])
    assert room["status"] == "finished"
    assert room["summary"] == "A fair summary."
    turns = room["turns"]
    assert [t["seq"] for t in turns] == list(range(1, len(turns) + 1))
    spoken = [(t["speaker"]["type"], t["kind"], t["text"]) for t in turns]
    args = [(t["speaker"].get("persona_id"), t["text"]) for t in turns if t["kind"] == "argument"]
    assert args == [(ada["_id"], "Ada one."), (bo["_id"], "Bo one."), (ada["_id"], "Ada two."),
                    (bo["_id"], "Bo two.")]
    assert [k for _, k, _ in spoken] == ["opening", "introduction", "argument", "introduction",
                                         "argument", "round", "argument", "argument", "closing"]
    assert all(t["status"] == "complete" for t in turns)
    # every generated text was moderated before it was shown
    for text in ("Ada one.", "Bo one.", "Ada two.", "Bo two.", "A fair summary."):
        assert text in moderator.checked
    # metered on the owner: one credit per token, the room's cost shown
    assert room["credits_charged"] == 5
    assert await ann.balance() == before - 5


async def test_each_speaker_sees_the_debate_from_its_own_side(ann, fake_llm, run_jobs):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=2)
    for text in ("Ada one.", "Bo one.", "Ada two.", "Bo two.", "Sum."):
        fake_llm.enqueue([text])
    await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")
    await run_jobs()
    third = fake_llm.history[2]["messages"]  # Ada's second turn
    assert third[0].role == "system" and third[0].content.startswith("Platform rules.")
    assert any(m.role == "assistant" and m.content == "Ada one." for m in third)
    assert any(m.role == "user" and "Bo: Bo one." in m.content for m in third)
    assert "Ada, it is your turn." in third[-1].content
    fourth = fake_llm.history[3]["messages"]  # Bo's second turn
    assert any(m.role == "assistant" and m.content == "Bo one." for m in fourth)
    assert any(m.role == "user" and "Ada: Ada two." in m.content for m in fourth)


async def test_a_blocked_turn_is_replaced_by_a_notice_and_the_debate_goes_on(
        ann, fake_llm, moderator, run_jobs, ctx):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=1)
    fake_llm.enqueue(["Fine point."])
    fake_llm.enqueue(["You are ", f"{BLOCK_WORD} awful."])
    fake_llm.enqueue(["Summary."])
    await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")
    await run_jobs()

    room = await room_of(ann, room["id"])
    assert room["status"] == "finished"
    turns = room["turns"]
    blocked = [t for t in turns if t["status"] == "blocked"]
    assert len(blocked) == 1 and blocked[0]["speaker"]["persona_id"] == bo["_id"]
    assert blocked[0]["text"] == WITHHELD_TEXT
    notice = turns[turns.index(blocked[0]) + 1]
    assert notice["speaker"]["type"] == "moderator"
    assert "Bo's turn was withheld" in notice["text"] and "goes on" in notice["text"]
    assert turns[-1]["kind"] == "closing"
    # the withheld words never reached a viewer
    body = (await ann.send("GET", f"/api/v1/rooms/{room['id']}/events")).text
    assert BLOCK_WORD not in body
    flag = await ctx.db.moderation_flags.find_one({"ref_id": blocked[0]["id"]})
    assert flag is not None and flag["subject"] == "room_turn"


async def test_word_limit_cuts_a_turn_and_the_moderator_keeps_time(ann, fake_llm, run_jobs):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=1, max_turn_words=10)
    fake_llm.enqueue([" ".join(f"w{i}" for i in range(12)) + "."])
    fake_llm.enqueue(["Short."])
    fake_llm.enqueue(["Sum."])
    await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")
    await run_jobs()
    turns = (await room_of(ann, room["id"]))["turns"]
    cut = next(t for t in turns if t["kind"] == "argument")
    assert cut["trimmed"] and len(cut["text"].split()) == 10
    follow = turns[turns.index(cut) + 1]
    assert follow["speaker"]["type"] == "moderator" and "10-word limit" in follow["text"]


async def test_events_carry_ids_and_resume_after_last_event_id(ann, fake_llm, run_jobs):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=1)
    for text in ("Ada speaks.", "Bo speaks.", "Sum."):
        fake_llm.enqueue([text])
    await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")
    await run_jobs()

    url = f"/api/v1/rooms/{room['id']}/events"
    full = await ann.send("GET", url)
    assert full.headers["content-type"].startswith("text/event-stream")
    frames = [b for b in full.text.split("\n\n") if b.startswith("id: ")]
    ids = [int(b.split("\n")[0][4:]) for b in frames]
    assert ids == list(range(1, len(ids) + 1))
    names = [b.split("\n")[1][len("event: "):] for b in frames]
    assert names[0] == "status" and names[-1] == "status"
    assert {"turn", "token", "turn_end", "summary"} <= set(names)

    middle = ids[len(ids) // 2]
    resumed = await ann.send("GET", url, headers={"Last-Event-ID": str(middle)})
    again = [int(b.split("\n")[0][4:]) for b in resumed.text.split("\n\n") if b.startswith("id: ")]
    assert again == [i for i in ids if i > middle]
    by_query = await ann.send("GET", url, params={"last_event_id": str(ids[-2])})
    assert [int(b.split("\n")[0][4:]) for b in by_query.text.split("\n\n")
            if b.startswith("id: ")] == [ids[-1]]
    tokens = "".join(d["text"] for n, d in parse_sse("\n\n".join(
        b.split("\n", 1)[1] for b in frames)) if n == "token")
    assert "Ada speaks." in tokens and "Bo speaks." in tokens


async def test_token_events_are_compacted_after_the_debate_and_replays_stay_whole(
        ann, ctx, fake_llm, run_jobs, clock):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=1)
    for text in ("Ada speaks.", "Bo speaks.", "Sum."):
        fake_llm.enqueue([text])
    await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")
    await run_jobs()
    assert await ctx.db.room_events.count_documents({"name": "token"}) > 0
    clock.advance(seconds=ctx.settings.rooms.compact_after_seconds + 1)
    await run_jobs()
    assert await ctx.db.room_events.count_documents({"name": "token"}) == 0
    replay = parse_sse("\n\n".join(
        b.split("\n", 1)[1] for b in (await ann.send(
            "GET", f"/api/v1/rooms/{room['id']}/events")).text.split("\n\n")
        if b.startswith("id: ")))
    ended = [d["text"] for n, d in replay if n == "turn_end"]
    assert "Ada speaks." in ended and "Bo speaks." in ended
