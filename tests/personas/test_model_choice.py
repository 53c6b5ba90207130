"""A persona may pick a model the operator enabled; chats with it use that model."""

from tests.factories import csrf, log_in, make_user


async def signed_in(client, ctx):
    await make_user(ctx, email="owner@example.com")
    await log_in(client, email="owner@example.com")


async def test_an_enabled_model_is_kept_and_used_by_new_chats(client, ctx):
    await signed_in(client, ctx)
    model = ctx.llm.default_model().id
    created = await client.post("/api/v1/personas", headers=csrf(client),
                                json={"name": "Ada", "model": model})
    assert created.status_code == 201, created.text
    persona = created.json()["persona"]
    assert persona["model"] == model
    chat = await client.post("/api/v1/conversations", headers=csrf(client),
                             json={"persona_id": persona["id"]})
    assert chat.json()["conversation"]["model"] == model
    cleared = await client.patch(f"/api/v1/personas/{persona['id']}", headers=csrf(client),
                                 json={"model": ""})
    assert cleared.json()["persona"]["model"] is None


async def test_a_model_the_operator_did_not_enable_is_refused(client, ctx):
    await signed_in(client, ctx)
    refused = await client.post("/api/v1/personas", headers=csrf(client),
                                json={"name": "Ada", "model": "openai:gpt-4o"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "model_unavailable"
    assert await ctx.db.personas.count_documents({}) == 0
    persona = (await client.post("/api/v1/personas", headers=csrf(client),
                                 json={"name": "Ada"})).json()["persona"]
    patched = await client.patch(f"/api/v1/personas/{persona['id']}", headers=csrf(client),
                                 json={"model": "anthropic:claude"})
    assert patched.status_code == 422
    assert (await ctx.db.personas.find_one({"_id": persona["id"]}))["model"] is None


async def test_the_editor_lists_only_enabled_models(client, ctx):
    await signed_in(client, ctx)
    page = (await client.get("/personas/new")).text
    assert 'name="model"' in page
    for model in ctx.llm.enabled_models():
        assert f'value="{model.id}"' in page
    assert "openai:" not in page
