"""Moderation flags: recorded with minimum data, listed and reviewed by admins only, and
handled by export and account deletion."""

import pytest

from clonechats.privacy import registry
from clonechats.providers.moderation.base import ModerationResult
from clonechats.safety import flags
from tests.factories import csrf, log_in, make_user

THREAT = ModerationResult(True, {"harassment/threatening": 1.0, "harassment": 0.91},
                          "This message looks like a threat.")
INSULT = ModerationResult(True, {"harassment": 0.8}, "This message looks like harassment.")


async def test_a_flag_keeps_the_reference_categories_and_reason_but_no_text(ctx):
    flag = await flags.record_flag(ctx, user_id="u1", subject="user_message", ref_id="m1",
                                   result=THREAT)

    stored = await ctx.db.moderation_flags.find_one({"_id": flag["_id"]})
    assert set(stored) == {"_id", "user_id", "subject", "ref_id", "categories", "reason",
                           "created_at", "reviewed_at", "reviewer_id"}
    assert stored["categories"] == {"harassment/threatening": 1.0, "harassment": 0.91}
    assert stored["reason"] == "This message looks like a threat."
    assert stored["reviewed_at"] is None and stored["reviewer_id"] is None
    assert stored["created_at"] == ctx.clock.now()


async def test_a_result_that_is_not_flagged_records_nothing(ctx):
    clean = ModerationResult(False, {}, None)
    assert await flags.record_flag(ctx, user_id="u1", subject="model_output", ref_id="m2",
                                   result=clean) is None
    assert await ctx.db.moderation_flags.count_documents({}) == 0


async def test_a_malformed_subject_is_a_programming_error(ctx):
    with pytest.raises(ValueError):
        await flags.record_flag(ctx, user_id="u1", subject="User Message!", ref_id="m",
                                result=INSULT)
    assert await ctx.db.moderation_flags.count_documents({}) == 0


async def test_admins_list_flags_newest_first_and_filter_by_status(ctx, client, admin, clock):
    first = await flags.record_flag(ctx, user_id="u1", subject="user_message", ref_id="m1",
                                    result=INSULT)
    clock.advance(minutes=1)
    second = await flags.record_flag(ctx, user_id="u2", subject="model_output", ref_id="m2",
                                     result=THREAT)
    await flags.mark_reviewed(ctx, flag_id=first["_id"], reviewer_id=admin["_id"])

    everything = (await client.get("/api/v1/admin/moderation-flags")).json()
    assert [item["id"] for item in everything["items"]] == [second["_id"], first["_id"]]
    assert everything["next_cursor"] is None
    assert everything["items"][0] == {
        "id": second["_id"], "user_id": "u2", "subject": "model_output", "ref_id": "m2",
        "categories": {"harassment/threatening": 1.0, "harassment": 0.91},
        "reason": "This message looks like a threat.", "status": "open",
        "created_at": clock.now().isoformat(), "reviewed_at": None, "reviewer_id": None,
        "action": None, "report_count": 0}
    open_only = (await client.get("/api/v1/admin/moderation-flags?status=open")).json()
    assert [item["id"] for item in open_only["items"]] == [second["_id"]]
    reviewed = (await client.get("/api/v1/admin/moderation-flags?status=reviewed")).json()
    assert [item["id"] for item in reviewed["items"]] == [first["_id"]]


async def test_the_list_pages_with_a_cursor(ctx, client, admin, clock):
    made = []
    for n in range(5):
        made.append(await flags.record_flag(ctx, user_id="u", subject="user_message",
                                            ref_id=f"m{n}", result=INSULT))
        clock.advance(seconds=1)
    seen, cursor = [], None
    while True:
        url = "/api/v1/admin/moderation-flags?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url)).json()
        seen += [item["ref_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["m4", "m3", "m2", "m1", "m0"]


async def test_bad_list_parameters_are_a_clear_4xx(client, admin):
    response = await client.get("/api/v1/admin/moderation-flags?status=maybe")
    assert response.status_code == 422
    assert "error" in response.json()
    response = await client.get("/api/v1/admin/moderation-flags?cursor=not-a-cursor")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


async def test_an_admin_marks_a_flag_reviewed_once(ctx, client, admin, clock):
    flag = await flags.record_flag(ctx, user_id="u1", subject="user_message", ref_id="m1",
                                   result=INSULT)
    reviewed_at = clock.now()

    response = await client.post(f"/api/v1/admin/moderation-flags/{flag['_id']}/review",
                                 headers=csrf(client))
    assert response.status_code == 200
    assert response.json()["flag"]["status"] == "reviewed"
    clock.advance(minutes=5)
    again = await client.post(f"/api/v1/admin/moderation-flags/{flag['_id']}/review",
                              headers=csrf(client))
    assert again.status_code == 200

    stored = await ctx.db.moderation_flags.find_one({"_id": flag["_id"]})
    assert stored["reviewed_at"] == reviewed_at
    assert stored["reviewer_id"] == admin["_id"]
    assert await flags.count_open(ctx) == 0


async def test_reviewing_an_unknown_flag_is_404_and_changes_nothing(ctx, client, admin):
    await flags.record_flag(ctx, user_id="u1", subject="user_message", ref_id="m1",
                            result=INSULT)
    response = await client.post("/api/v1/admin/moderation-flags/nope/review",
                                 headers=csrf(client))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert await flags.count_open(ctx) == 1


async def test_the_admin_reads_the_flagged_message_through_its_reference(ctx, client, admin):
    await ctx.db.messages.insert_one({
        "_id": "msg1", "conversation_id": "c1", "owner_id": "u1", "seq": 1, "role": "user",
        "text": "You are a <b>worthless</b> idiot", "status": "blocked",
        "created_at": ctx.clock.now()})
    flag = await flags.record_flag(ctx, user_id="u1", subject="user_message", ref_id="msg1",
                                   result=INSULT)

    detail = (await client.get(f"/api/v1/admin/moderation-flags/{flag['_id']}")).json()
    assert detail["message"]["text"] == "You are a <b>worthless</b> idiot"
    assert detail["message"]["status"] == "blocked"
    page = await client.get(f"/admin/moderation/{flag['_id']}")
    assert page.status_code == 200
    assert "You are a &lt;b&gt;worthless&lt;/b&gt; idiot" in page.text
    assert "<b>worthless</b>" not in page.text

    await ctx.db.messages.delete_one({"_id": "msg1"})
    gone = (await client.get(f"/api/v1/admin/moderation-flags/{flag['_id']}")).json()
    assert gone["message"] is None
    assert "no longer stored" in (await client.get(f"/admin/moderation/{flag['_id']}")).text


async def test_the_moderation_page_lists_open_flags_with_their_actions(ctx, client, admin):
    flag = await flags.record_flag(ctx, user_id="u1", subject="user_message", ref_id="m1",
                                   result=THREAT)
    page = await client.get("/admin/moderation")

    assert page.status_code == 200
    assert f'data-flag="{flag["_id"]}"' in page.text
    assert "This message looks like a threat." in page.text
    assert f'data-api="/api/v1/admin/moderation/{flag["_id"]}/action"' in page.text
    for action in ("dismiss", "warn", "suspend"):
        assert f'name="action" value="{action}"' in page.text
    assert 'value="hide"' not in page.text  # a held-back message has nothing to hide
    assert 'href="/admin/moderation"' in page.text


async def test_normal_users_cannot_list_or_review_flags(ctx, client):
    flag = await flags.record_flag(ctx, user_id="u1", subject="user_message", ref_id="m1",
                                   result=INSULT)
    await make_user(ctx, email="normal@example.com")
    assert (await log_in(client, email="normal@example.com")).status_code == 200

    assert (await client.get("/api/v1/admin/moderation-flags")).status_code == 403
    review = await client.post(f"/api/v1/admin/moderation-flags/{flag['_id']}/review",
                               headers=csrf(client))
    assert review.status_code == 403
    assert (await client.get("/admin/moderation")).status_code == 403
    assert await flags.count_open(ctx) == 1


async def test_export_includes_a_persons_flags_and_deletion_anonymises_them(ctx):
    await flags.record_flag(ctx, user_id="u1", subject="user_message", ref_id="m1",
                            result=INSULT)
    await flags.record_flag(ctx, user_id="u2", subject="user_message", ref_id="m2",
                            result=THREAT)
    holder = next(h for h in registry.holders() if h.name == "moderation_flags")

    exported = await holder.export(ctx, "u1")
    assert exported == {"flags": [{"subject": "user_message",
                                   "categories": {"harassment": 0.8},
                                   "reason": "This message looks like harassment.",
                                   "created_at": ctx.clock.now().isoformat(),
                                   "reviewed": False}]}
    assert await holder.delete(ctx, "u1") == 1

    assert await ctx.db.moderation_flags.count_documents({"user_id": "u1"}) == 0
    assert await ctx.db.moderation_flags.count_documents({"ref_id": "m1"}) == 0
    anonymous = await ctx.db.moderation_flags.find_one({"user_id": None})
    assert anonymous["categories"] == {"harassment": 0.8}
    assert await ctx.db.moderation_flags.count_documents({"user_id": "u2"}) == 1
