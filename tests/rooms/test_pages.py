"""The debate pages: list (with its empty state), new debate, the room, the public room."""

from tests.chat.conftest import new_client
from tests.rooms.conftest import debate

HTML = {"Accept": "text/html"}


async def test_the_list_shows_an_empty_state_then_the_debates(ann):
    empty = await ann.client.get("/rooms", headers=HTML)
    assert empty.status_code == 200 and "No debates yet" in empty.text
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    await debate(ann, [ada["_id"], bo["_id"]], topic="<i>Tabs</i> or spaces")
    listed = await ann.client.get("/rooms", headers=HTML)
    assert "&lt;i&gt;Tabs&lt;/i&gt; or spaces" in listed.text and "<i>Tabs" not in listed.text
    assert 'href="/rooms"' in listed.text  # in the navigation


async def test_the_new_debate_form_lists_mine_and_public_personas(ann, bob):
    await ann.persona(name="Ada")
    await ann.persona(name="Bo")
    await bob.persona(name="Public Cy", visibility="public", share_id="cy-share")
    await bob.persona(name="Private Dee")
    page = await ann.client.get("/rooms/new", headers=HTML)
    assert page.status_code == 200
    assert "Ada" in page.text and "Public Cy" in page.text and "Private Dee" not in page.text
    assert 'name="moderator" value="user"' in page.text


async def test_the_room_page_and_its_owner_check(ann, bob, fake_llm, run_jobs):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=1, moderator="user")
    page = await ann.client.get(f"/rooms/{room['id']}", headers=HTML)
    assert page.status_code == 200
    assert "Start the debate" in page.text and "Give the floor" in page.text
    assert f'data-events="/api/v1/rooms/{room["id"]}/events"' in page.text
    assert (await bob.client.get(f"/rooms/{room['id']}", headers=HTML)).status_code == 404


async def test_signed_out_visitors_are_sent_to_log_in(app):
    async with new_client(app) as anonymous:
        response = await anonymous.get("/rooms", headers=HTML)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
