"""The memories panel on the persona edit page."""

from tests.factories import make_persona


async def test_edit_page_has_the_memories_panel(ann, ctx):
    persona = await make_persona(ctx, owner_id=ann.id, name="<b>Ada</b>")
    response = await ann.client.get(f"/personas/{persona['_id']}/edit")
    assert response.status_code == 200
    page = response.text
    assert f'data-api="/api/v1/personas/{persona["_id"]}/memories"' in page
    assert 'data-memories-add' in page and 'data-memories-search' in page
    assert "No memories yet" in page and "Test recall" in page
    assert '<script type="module" src="/static/js/memories.js' in page
    assert "<b>Ada</b>" not in page and "&lt;b&gt;Ada&lt;/b&gt;" in page


async def test_memories_script_is_served(client):
    response = await client.get("/static/js/memories.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "innerHTML" not in response.text  # memory text is only ever set as text
