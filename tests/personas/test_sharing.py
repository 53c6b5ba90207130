"""Share links: the public view carries public fields only; re-issuing or revoking a link
kills the old one at once."""

OWNER_ONLY = {"owner_id", "email", "system_prompt_public", "visibility", "updated_at",
              "reference_image_ids", "reference_voice_id", "model", "memories"}


async def share(member, persona_id):
    response = await member.send("POST", f"/api/v1/personas/{persona_id}/share")
    assert response.status_code == 200, response.text
    return response.json()


async def test_public_view_has_no_owner_data_and_no_hidden_prompt(ann, stranger, ctx):
    persona = await ann.create(name="Ada", tagline="Hi", traits=["kind"], tone="warm",
                               system_prompt="SECRET-PROMPT", greeting="Hello!",
                               visibility="public")
    link = await share(ann, persona["id"])
    assert link["url"] == f"{ctx.settings.public_url.rstrip('/')}/p/{link['share_id']}"
    response = await stranger.get(f"/api/v1/public/personas/{link['share_id']}")
    assert response.status_code == 200
    body = response.json()["persona"]
    assert body["name"] == "Ada" and body["greeting"] == "Hello!" and body["traits"] == ["kind"]
    assert body["system_prompt"] is None
    assert not OWNER_ONLY & set(body)
    for secret in ("SECRET-PROMPT", ann.id, ann.user["email"]):
        assert secret not in response.text


async def test_system_prompt_shows_only_when_marked_public(ann, stranger):
    persona = await ann.create(system_prompt="Speak like a lighthouse keeper.",
                               system_prompt_public=True, visibility="public")
    body = (await stranger.get(f"/api/v1/public/personas/{persona['share_id']}")).json()
    assert body["persona"]["system_prompt"] == "Speak like a lighthouse keeper."
    await ann.send("PATCH", f"/api/v1/personas/{persona['id']}",
                   json={"system_prompt_public": False})
    hidden = (await stranger.get(f"/api/v1/public/personas/{persona['share_id']}")).json()
    assert hidden["persona"]["system_prompt"] is None


async def test_reissuing_replaces_the_link_and_revoking_kills_it(ann, stranger, ctx):
    persona = await ann.create(visibility="public")
    first = persona["share_id"]
    second = (await share(ann, persona["id"]))["share_id"]
    third = (await share(ann, persona["id"]))["share_id"]
    assert len({first, second, third}) == 3
    for dead in (first, second):
        response = await stranger.get(f"/api/v1/public/personas/{dead}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "persona_not_found"
        assert (await stranger.get(f"/p/{dead}")).status_code == 404
    assert (await stranger.get(f"/api/v1/public/personas/{third}")).status_code == 200

    revoked = await ann.send("DELETE", f"/api/v1/personas/{persona['id']}/share")
    assert revoked.status_code == 204
    assert (await stranger.get(f"/api/v1/public/personas/{third}")).status_code == 404
    assert (await stranger.get("/api/v1/public/personas")).json()["items"] == []
    stored = await ctx.db.personas.find_one({"_id": persona["id"]})
    assert "share_id" not in stored and stored["visibility"] == "public"


async def test_a_private_persona_cannot_be_shared(ann, ctx):
    persona = await ann.create()
    response = await ann.send("POST", f"/api/v1/personas/{persona['id']}/share")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "persona_not_public"
    assert "share_id" not in await ctx.db.personas.find_one({"_id": persona["id"]})


async def test_share_ids_are_unguessable_tokens(ann):
    ids = set()
    for _ in range(5):
        persona = await ann.create(visibility="public")
        ids.add(persona["share_id"])
    # 16 random bytes (128 bits, ASVS 7.2.3 / 11.5.1) are 22 URL-safe characters
    assert len(ids) == 5 and all(len(share_id) >= 22 for share_id in ids)
