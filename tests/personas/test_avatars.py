"""Persona avatars on the persona pages: the uploaded picture, or a generated monogram."""

import re

from clonechats.personas import avatars
from clonechats.web.templates import STATIC_DIR
from tests.media.samples import image_bytes


async def upload_avatar(who, persona_id: str) -> str:
    response = await who.send("POST", f"/api/v1/personas/{persona_id}/avatar",
                              files={"file": ("a.png", image_bytes("PNG"), "image/png")})
    assert response.status_code == 201, response.text
    return response.json()["media"]["id"]


def monogram(persona_id: str, name: str, initials: str) -> str:
    colour = avatars.colour_index(persona_id)
    return (f'class="avatar avatar-{{size}} avatar-monogram avatar-colour-{colour}" role="img" '
            f'aria-label="Avatar of {name}">{initials}</span>')


def test_initials_take_the_first_letters_of_the_first_two_words():
    assert avatars.initials("ada lovelace byron") == "AL"
    assert avatars.initials("  Ümit  ") == "Ü"
    assert avatars.initials("(Dr) 7 of Nine") == "D7"
    assert avatars.initials("!!! ...") == "?"


def test_the_colour_is_the_same_for_an_id_everywhere_and_spread_over_the_palette():
    ids = [f"{index:024x}" for index in range(200)]
    assert [avatars.colour_index(i) for i in ids] == [avatars.colour_index(i) for i in ids]
    assert {avatars.colour_index(i) for i in ids} == set(range(avatars.PALETTE_SIZE))


def contrast_with_white(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (luminance + 0.05)


def test_every_monogram_colour_is_styled_and_readable_with_white_text():
    css = (STATIC_DIR / "css" / "app.css").read_text()
    colours = dict(re.findall(r"\.avatar-colour-(\d+) \{ background: (#[0-9a-f]{6}); \}", css))
    assert sorted(map(int, colours)) == list(range(avatars.PALETTE_SIZE))
    assert all(contrast_with_white(colour) >= 4.5 for colour in colours.values())


async def test_without_an_upload_every_persona_surface_shows_the_same_monogram(ann, stranger):
    persona = await ann.create(name="Grace Hopper", visibility="public")
    pages = {
        "md": [(ann.client, "/personas"), (stranger, "/explore")],
        "lg": [(ann.client, f"/personas/{persona['id']}"),
               (stranger, f"/p/{persona['share_id']}")],
    }
    for size, surfaces in pages.items():
        expected = monogram(persona["id"], "Grace Hopper", "GH").replace("{size}", size)
        for client, path in surfaces:
            html = (await client.get(path)).text
            assert expected in html, path


async def test_an_uploaded_avatar_shows_on_every_surface_and_anonymous_visitors_may_load_it(
        ann, bob, stranger):
    persona = await ann.create(name="Ada", visibility="public")
    media_id = await upload_avatar(ann, persona["id"])
    await bob.send("PUT", f"/api/v1/personas/{persona['id']}/favourite")
    image = f'<img class="avatar avatar-{{}}" src="/media/{media_id}" alt="Avatar of Ada"'
    for client, path, size in [(ann.client, "/personas", "md"), (stranger, "/explore", "md"),
                               (bob.client, "/personas/favourites", "md"),
                               (ann.client, f"/personas/{persona['id']}", "lg"),
                               (stranger, f"/p/{persona['share_id']}", "lg")]:
        html = (await client.get(path)).text
        assert image.format(size) in html, path
        assert 'aria-label="Avatar of Ada"' not in html, path
    served = await stranger.get(f"/media/{media_id}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"


async def test_a_private_personas_avatar_is_never_shown_or_served_to_others(ann, bob, stranger):
    persona = await ann.create(name="Secret Sam")
    media_id = await upload_avatar(ann, persona["id"])
    assert f"/media/{media_id}" in (await ann.client.get("/personas")).text
    assert (await ann.client.get(f"/media/{media_id}")).status_code == 200
    for client in (bob.client, stranger):
        assert f"/media/{media_id}" not in (await client.get("/explore")).text
        assert (await client.get(f"/media/{media_id}")).status_code == 404
