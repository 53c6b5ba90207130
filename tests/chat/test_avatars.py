"""The persona's avatar in the chat list and beside its messages, for as long as the viewer
may still see the persona's picture."""

from clonechats.personas import avatars
from tests.media.samples import image_bytes

HTML = {"Accept": "text/html"}


async def upload_avatar(who, persona_id: str) -> str:
    response = await who.send("POST", f"/api/v1/personas/{persona_id}/avatar",
                              files={"file": ("a.png", image_bytes("PNG"), "image/png")})
    assert response.status_code == 201, response.text
    return response.json()["media"]["id"]


async def test_the_list_and_every_persona_message_show_the_uploaded_avatar(ann, fake_llm):
    persona = await ann.persona(name="Ada")
    media_id = await upload_avatar(ann, persona["_id"])
    conversation = await ann.conversation(persona["_id"])
    for reply in ("One.", "Two."):
        fake_llm.enqueue([reply])
        await ann.say(conversation["id"], "Hello", stream="false")
    image = f'src="/media/{media_id}" alt="Avatar of Ada"'

    listed = (await ann.client.get("/chat", headers=HTML)).text
    assert f'<img class="avatar avatar-md" {image}' in listed
    page = (await ann.client.get(f"/chat/{conversation['id']}", headers=HTML)).text
    transcript = page.split("data-transcript", 1)[1]
    assert transcript.count(image) == 2  # the two replies, not the user's messages
    assert f'<template data-persona-avatar><img class="avatar avatar-sm" {image}' in page
    tail = (await ann.client.get(f"/chat/{conversation['id']}/tail?count=2", headers=HTML)).text
    assert tail.count(image) == 1


async def test_without_an_upload_the_greeting_and_replies_show_the_monogram(ann, fake_llm):
    persona = await ann.persona(name="Grace Hopper", greeting="Hello there.")
    conversation = await ann.conversation(persona["_id"])
    monogram = (f'avatar-monogram avatar-colour-{avatars.colour_index(persona["_id"])}" '
                'role="img" aria-label="Avatar of Grace Hopper">GH</span>')
    empty = (await ann.client.get(f"/chat/{conversation['id']}", headers=HTML)).text
    assert f"{monogram}<span class=\"message-author\">Grace Hopper" in empty
    fake_llm.enqueue(["Hi."])
    await ann.say(conversation["id"], "Hello", stream="false")
    page = (await ann.client.get(f"/chat/{conversation['id']}", headers=HTML)).text
    assert page.split("data-transcript", 1)[1].count(monogram) == 1
    assert monogram in (await ann.client.get("/chat", headers=HTML)).text


async def test_another_users_persona_gone_private_falls_back_to_its_monogram(ann, bob,
                                                                             fake_llm):
    persona = await ann.persona(name="Ada", visibility="public", share_id="ada1")
    media_id = await upload_avatar(ann, persona["_id"])
    conversation = await bob.conversation(persona["_id"])
    assert f"/media/{media_id}" in (await bob.client.get("/chat", headers=HTML)).text
    assert (await bob.client.get(f"/media/{media_id}")).status_code == 200

    made_private = await ann.send("PATCH", f"/api/v1/personas/{persona['_id']}",
                                  json={"visibility": "private"})
    assert made_private.status_code == 200, made_private.text
    for path in ("/chat", f"/chat/{conversation['id']}"):
        html = (await bob.client.get(path, headers=HTML)).text
        assert f"/media/{media_id}" not in html, path
        assert 'aria-label="Avatar of Ada">A</span>' in html, path
    assert (await bob.client.get(f"/media/{media_id}")).status_code == 404
